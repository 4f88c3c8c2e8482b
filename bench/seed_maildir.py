#!/usr/bin/env python3
"""Write N generated customer-support messages straight into a Maildir.

Used by bench/sync-vs-mbsync.sh: writing Maildir files is ~100x faster than IMAP APPEND
(Dovecot fsyncs every APPEND). Output is deterministic for a given --seed and --count.

Mix (approximate, by seeded RNG):
  * ~30 % Chinese (UTF-8; bodies 8bit, base64 or quoted-printable; RFC 2047 subjects/names)
  * ~45 % text/plain only, ~55 % multipart/alternative (text + HTML)
  * ~10 % multipart/mixed with a small base64 attachment (PNG / PDF / CSV)
  * ~25 % replies (In-Reply-To + References pointing at earlier generated messages)
  * ~6 KB per message on average (uniform 4.8-7.2 KB target)
Files go to cur/ named "<unix time>.M<n>P<seed>.bench,S=<size>,W=<crlf size>:2,<flags>"
(the S=/W= fields are what Dovecot itself writes; they spare it a stat per message).
Each file's mtime is set to its Date: header, which Dovecot reports as INTERNALDATE.
"""
import argparse
import base64
import binascii
import email.utils
import os
import random
import sys
import textwrap
from email.header import Header

EN_FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
            "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
            "Thomas", "Sarah", "Daniel", "Karen", "Matthew", "Nancy", "Anthony", "Lisa"]
EN_LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
           "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor",
           "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark"]
ZH_NAMES = ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "赵丽", "黄强", "周杰", "吴芳",
            "徐明", "孙悦", "马超", "朱琳", "胡斌", "郭蕾", "何平", "高翔", "林婷", "罗军"]
DOMAINS = ["example.com", "mail.example.com", "customers.example.com"]

EN_SUBJECTS = [
    "Where is my order #{n}?", "Refund request for order #{n}",
    "Wrong size delivered (order #{n})", "Damaged item received", "Cannot log in to my account",
    "Question about shipping to {city}", "Change delivery address for #{n}",
    "Invoice needed for order #{n}", "Discount code not working", "Cancel my subscription",
    "Package marked delivered but not received", "Exchange request: order #{n}",
    "Payment charged twice", "When will item {sku} be back in stock?",
    "Warranty claim for {sku}", "Complaint about courier",
]
ZH_SUBJECTS = [
    "我的订单 #{n} 什么时候发货？", "申请退款：订单 #{n}", "收到的商品尺码不对（订单 #{n}）",
    "商品到货时已损坏", "无法登录我的账户", "关于寄往{city}的运费问题", "修改订单 #{n} 的收货地址",
    "需要订单 #{n} 的发票", "优惠码无法使用", "取消我的订阅", "快递显示已签收但我没有收到",
    "换货申请：订单 #{n}", "重复扣款了", "商品 {sku} 什么时候补货？", "{sku} 保修申请",
]
CITIES_EN = ["Berlin", "Lyon", "Toronto", "Osaka", "Melbourne", "Austin", "Dublin", "Oslo"]
CITIES_ZH = ["上海", "北京", "广州", "深圳", "成都", "杭州", "台北", "香港"]

EN_SENTENCES = [
    "I placed the order last week and the tracking page has not changed since Monday.",
    "Could you please tell me when I can expect the parcel to arrive?",
    "The box was crushed on one side and the item inside is scratched.",
    "I have attached a photo so you can see the damage for yourselves.",
    "I would prefer a replacement rather than a refund if that is possible.",
    "My account email is the same as the one I am writing from.",
    "I tried the password reset link twice but the email never arrives.",
    "The discount code from your newsletter says it has expired, but the email says it is valid until the end of the month.",
    "My bank statement shows two identical charges for the same order.",
    "Please cancel the order if it has not shipped yet.",
    "I ordered a medium but received a large, and the label on the bag says medium.",
    "The courier left a note saying nobody was home, but I was at home all day.",
    "Can you send me an invoice with my company name and VAT number on it?",
    "I have been a customer for years and this is the first time something like this has happened.",
    "Thank you for your help, I really appreciate a quick answer.",
    "If you need any more information from me, just let me know.",
    "The product page said delivery in two to three working days.",
    "I need the item before my trip on the fifteenth, otherwise it is no use to me.",
    "Is there a phone number I can call to speak to someone directly?",
    "I returned the parcel using the prepaid label twelve days ago and have not heard anything.",
]
ZH_SENTENCES = [
    "我上周下的订单，到现在物流信息一直没有更新。", "请问包裹大概什么时候能送到？",
    "箱子有一边被压扁了，里面的商品也有划痕。", "我附上了照片，您可以看一下损坏的情况。",
    "如果可以的话，我更希望换一个新的，而不是退款。", "我的账户邮箱就是现在发信的这个地址。",
    "我试了两次重置密码，但一直收不到邮件。", "你们邮件里说优惠码月底前有效，但结账时提示已过期。",
    "银行账单显示同一个订单被扣了两次款。", "如果还没有发货，请帮我取消这个订单。",
    "我订的是中号，收到的却是大号，袋子上的标签写的是中号。", "快递员留言说家里没人，可是我一整天都在家。",
    "能否给我开一张带公司名称和税号的发票？", "我是你们的老客户了，这是第一次遇到这种问题。",
    "谢谢你们的帮助，希望能尽快回复。", "如果还需要我提供什么信息，请告诉我。",
    "商品页面上写的是两到三个工作日送达。", "我十五号要出差，必须在那之前收到，否则就没用了。",
    "请问有没有电话可以直接联系客服？", "我十二天前用预付标签把包裹寄回去了，到现在还没有消息。",
]
EN_GREETINGS = ["Hello,", "Hi there,", "Dear Support Team,", "Good morning,", "Hi,"]
ZH_GREETINGS = ["您好，", "客服你好：", "你好！", "尊敬的客服："]
EN_CLOSINGS = ["Best regards,", "Thanks,", "Kind regards,", "Cheers,", "Many thanks,"]
ZH_CLOSINGS = ["谢谢！", "此致", "祝好，", "盼复，"]
AGENT_LINES_EN = [
    "Thank you for contacting Shop Support.",
    "I have checked your order and passed the details to our warehouse team.",
    "We will update you within 24 hours.",
]
AGENT_LINES_ZH = ["感谢您联系商店客服。", "我已经查看了您的订单，并转交给仓库同事处理。", "我们会在24小时内给您答复。"]
USER_AGENTS = ["Mozilla Thunderbird 115.6.0", "Apple Mail (2.3774)", "Microsoft Outlook 16.0",
               "Foxmail 7.2.25", None, None]


class Gen:
    def __init__(self, seed, start_ts):
        self.r = random.Random(seed)
        self.seed = seed
        self.ts = start_ts
        self.sent = []  # (message_id, references, subject, from_hdr, zh) of earlier messages

    # --- small helpers -------------------------------------------------------------
    def fill(self, s):
        r = self.r
        return s.format(n=r.randint(100000, 999999), city=r.choice(CITIES_EN),
                        sku="SKU-%04d" % r.randint(1, 9999))

    def fill_zh(self, s):
        r = self.r
        return s.format(n=r.randint(100000, 999999), city=r.choice(CITIES_ZH),
                        sku="SKU-%04d" % r.randint(1, 9999))

    def enc_header(self, text):
        """RFC 2047 for non-ASCII text, alternating B and Q encodings."""
        if text.isascii():
            return text
        h = Header(text, "utf-8", maxlinelen=76, header_name="Subject")
        if self.r.random() < 0.5:
            return h.encode()  # Python picks B for utf-8
        # Q encoding, folded into encoded-words of at most 75 chars
        words, cur = [], ""
        for ch in text:
            b = ch.encode("utf-8")
            piece = "".join(("_" if c == 0x20 else chr(c) if (c < 0x80 and chr(c).isalnum())
                             else "=%02X" % c) for c in b)
            if len(cur) + len(piece) > 60:
                words.append(cur)
                cur = ""
            cur += piece
        words.append(cur)
        return "\n ".join("=?UTF-8?Q?%s?=" % w for w in words)

    def paragraphs(self, zh, budget):
        """Paragraphs of plain text totalling about `budget` bytes (UTF-8)."""
        r = self.r
        pool = ZH_SENTENCES if zh else EN_SENTENCES
        paras, size = [], 0
        while size < budget:
            p = ("" if zh else " ").join(r.choice(pool) for _ in range(r.randint(2, 5)))
            paras.append(p)
            size += len(p.encode("utf-8")) + 2
        return paras

    @staticmethod
    def wrap(p, zh):
        if zh:
            return "\n".join(p[i:i + 36] for i in range(0, len(p), 36))
        return textwrap.fill(p, 72)

    def encode_body(self, text, zh):
        """(Content-Transfer-Encoding, body) for a UTF-8 text."""
        raw = text.encode("utf-8")
        if not zh:
            return "7bit", text
        k = self.r.random()
        if k < 0.34:
            return "8bit", text
        if k < 0.67:
            return "base64", b64lines(raw)
        return "quoted-printable", binascii.b2a_qp(raw).decode("ascii")

    # --- one message ---------------------------------------------------------------
    def message(self, i):
        r = self.r
        zh = r.random() < 0.30
        self.ts += r.randint(60, 900)
        date = email.utils.formatdate(self.ts, localtime=False)
        domain = r.choice(DOMAINS)
        if zh:
            name = r.choice(ZH_NAMES)
            local = "cust%05d" % r.randint(0, 99999)
        else:
            first, last = r.choice(EN_FIRST), r.choice(EN_LAST)
            name = "%s %s" % (first, last)
            local = "%s.%s%d" % (first.lower(), last.lower(), r.randint(1, 99))
        from_hdr = "%s <%s@%s>" % (self.enc_header(name) if zh else '"%s"' % name, local, domain)
        msgid = "<%d.%d.%08x@%s>" % (self.seed, i, r.getrandbits(32), domain)

        reply_to = None
        if self.sent and r.random() < 0.25:
            reply_to = r.choice(self.sent[-500:])
            zh = reply_to[4]
            subject = "Re: " + reply_to[2] if not reply_to[2].startswith("Re: ") else reply_to[2]
        else:
            subject = self.fill_zh(r.choice(ZH_SUBJECTS)) if zh else self.fill(r.choice(EN_SUBJECTS))

        target = r.randint(4800, 7200)
        kind = r.random()
        alternative = r.random() < 0.55
        attach = r.random() < 0.10

        headers = [
            ("Return-Path", "<%s@%s>" % (local, domain)),
            ("Received", "from mx.%s (mx.%s [192.0.2.%d])\n\tby mx.shop.test with ESMTPS id %08X\n\tfor <support@shop.test>; %s"
             % (domain, domain, r.randint(1, 254), r.getrandbits(32), date)),
            ("Message-ID", msgid),
            ("Date", date),
            ("From", from_hdr),
            ("To", "Shop Support <support@shop.test>"),
            ("Subject", self.enc_header(subject)),
            ("MIME-Version", "1.0"),
        ]
        if reply_to:
            refs = (reply_to[1] + " " + reply_to[0]).strip().split()[-10:]
            headers.append(("In-Reply-To", reply_to[0]))
            headers.append(("References", "\n ".join(refs)))
        ua = r.choice(USER_AGENTS)
        if ua:
            headers.append(("User-Agent" if "Thunderbird" in ua else "X-Mailer", ua))
        if r.random() < 0.3:
            headers.append(("X-Priority", "3"))
        _ = kind

        head_size = sum(len(k) + len(v.encode("utf-8")) + 3 for k, v in headers) + 200
        parts_factor = (2.3 if alternative else 1.0)
        enc_factor = 1.0
        if zh:
            enc_factor = 1.8  # average over 8bit (1.0), base64 (1.37), QP (~3.1)
        att_bytes = r.randint(500, 1400) if attach else 0
        budget = max(300, int((target - head_size - att_bytes * 1.4) / parts_factor / enc_factor))

        greet = r.choice(ZH_GREETINGS if zh else EN_GREETINGS)
        close = r.choice(ZH_CLOSINGS if zh else EN_CLOSINGS)
        paras = self.paragraphs(zh, budget)
        text_blocks = [greet] + [self.wrap(p, zh) for p in paras] + [close, name]
        if reply_to:
            agent = AGENT_LINES_ZH if zh else AGENT_LINES_EN
            quoted = "\n".join("> " + l for l in self.wrap(" ".join(agent) if not zh else "".join(agent), zh).split("\n"))
            intro = ("%s，Shop Support 写道：" % date) if zh else ("On %s, Shop Support wrote:" % date)
            text_blocks += ["", intro, quoted]
        text = "\n\n".join(text_blocks) + "\n"

        charset = "utf-8" if zh else "us-ascii"
        cte, body = self.encode_body(text, zh)
        text_part = ([("Content-Type", "text/plain; charset=%s; format=flowed" % charset if not zh else "text/plain; charset=utf-8"),
                      ("Content-Transfer-Encoding", cte)], body)
        part = text_part
        if alternative:
            html = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head>"
                    "<body>\n<p>%s</p>\n%s\n<p>%s<br>%s</p>\n</body></html>\n") % (
                greet, "\n".join("<p>%s</p>" % p for p in paras), close, name)
            if reply_to:
                html = html.replace("</body>", "<blockquote type=\"cite\">%s</blockquote>\n</body>" % (
                    "".join(AGENT_LINES_ZH) if zh else " ".join(AGENT_LINES_EN)))
            if not zh:
                hcte, hbody = "quoted-printable", binascii.b2a_qp(html.encode("utf-8")).decode("ascii")
            else:
                hcte, hbody = self.encode_body(html, zh)
            html_part = ([("Content-Type", "text/html; charset=utf-8"), ("Content-Transfer-Encoding", hcte)], hbody)
            part = ("multipart/alternative", [text_part, html_part])
        if attach:
            ext = r.choice(["png", "pdf", "csv"])
            if ext == "png":
                data = b"\x89PNG\r\n\x1a\n" + r.randbytes(att_bytes)
                ctype, fname = "image/png", "photo_%d.png" % i
            elif ext == "pdf":
                data = b"%PDF-1.4\n" + r.randbytes(att_bytes)
                ctype, fname = "application/pdf", ("发票_%d.pdf" % i if zh else "receipt_%d.pdf" % i)
            else:
                rows = ["order,sku,qty,price"] + ["%d,SKU-%04d,%d,%d.%02d" % (
                    r.randint(100000, 999999), r.randint(1, 9999), r.randint(1, 5), r.randint(1, 300), r.randint(0, 99))
                    for _ in range(att_bytes // 30)]
                data = ("\n".join(rows) + "\n").encode()
                ctype, fname = "text/csv", "items_%d.csv" % i
            if fname.isascii():
                disp = 'attachment; filename="%s"' % fname
                ct = '%s; name="%s"' % (ctype, fname)
            else:
                q = "".join(c if c.isascii() and c.isalnum() or c in "._-" else
                            "".join("%%%02X" % b for b in c.encode("utf-8")) for c in fname)
                disp = "attachment;\n filename*=utf-8''%s" % q
                ct = '%s; name="%s"' % (ctype, Header(fname, "utf-8").encode())
            att_part = ([("Content-Type", ct), ("Content-Disposition", disp),
                         ("Content-Transfer-Encoding", "base64")], b64lines(data))
            part = ("multipart/mixed", [part, att_part])

        out = ["%s: %s" % (k, v) for k, v in headers]
        out.append(render(part, r, i))
        msg = "\n".join(out)
        if not msg.endswith("\n"):
            msg += "\n"
        self.sent.append((msgid, reply_to[1] + " " + reply_to[0] if reply_to else "", subject, from_hdr, zh))
        flags = ""
        f = r.random()
        if f < 0.55:
            flags = "S"
        elif f < 0.70:
            flags = "RS"
        elif f < 0.75:
            flags = "FS"
        return self.ts, msg.encode("utf-8"), flags


def b64lines(data):
    s = base64.b64encode(data).decode("ascii")
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76)) + "\n"


def render(part, r, i):
    """Content headers + body of one part (leaf: (headers, body); multipart: (type, parts))."""
    if isinstance(part[0], str):
        ctype, children = part
        boundary = "----=_Part_%d_%08x" % (i, r.getrandbits(32))
        lines = ['Content-Type: %s;\n boundary="%s"' % (ctype, boundary), ""]
        if ctype == "multipart/mixed":
            lines.append("This is a multi-part message in MIME format.")
        for c in children:
            lines.append("--" + boundary)
            lines.append(render(c, r, i))
        lines.append("--" + boundary + "--")
        return "\n".join(lines) + "\n"
    headers, body = part
    return "\n".join("%s: %s" % kv for kv in headers) + "\n\n" + body


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("maildir", help="Maildir to create/fill (cur new tmp are created)")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--start", type=int, default=1704067200, help="unix time of the first message")
    a = ap.parse_args()

    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(a.maildir, sub), exist_ok=True)
    g = Gen(a.seed, a.start)
    total = 0
    sizes = []
    cur = os.path.join(a.maildir, "cur")
    for i in range(1, a.count + 1):
        ts, data, flags = g.message(i)
        vsize = len(data) + data.count(b"\n")
        name = "%d.M%dP%d.bench,S=%d,W=%d:2,%s" % (ts, i, a.seed % 100000, len(data), vsize, flags)
        path = os.path.join(cur, name)
        with open(path, "wb") as fh:
            fh.write(data)
        os.utime(path, (ts, ts))
        total += len(data)
        sizes.append(len(data))
    zh = sum(1 for m in g.sent if m[4])
    print("seeded %d messages, %.1f MB, mean %.0f B, min %d B, max %d B, %d Chinese"
          % (a.count, total / 1e6, total / max(1, a.count), min(sizes), max(sizes), zh),
          file=sys.stderr)


if __name__ == "__main__":
    main()
