#!/usr/bin/env python3
"""Seed the local mail stack with a realistic demo support mailbox, and optionally keep a
trickle of new customer mail arriving.

  scripts/demo-seed.py                      seed (once: a second run sees the marker and stops)
  scripts/demo-seed.py --trickle 30         then send a new customer email every ~30 s, until ^C
  scripts/demo-seed.py --user support --password secret --imap-port 14143 --smtp-port 12525

The mailbox gets a few hundred customer conversations in English and Simplified Chinese
across three queues (INBOX for orders, Billing, Returns), earlier threads answered by the
team (replies in Sent, originals flagged \\Answered), follow-ups waiting on the team, and
receive times spread over the last hours so SLA chips show green, amber and red.
Standard library only; loopback only.
"""
import argparse
import datetime
import email.utils
import imaplib
import random
import smtplib
import sys
import time
from email.message import EmailMessage

DOMAIN = "shop.test"
MARKER = "<demo-seed-marker@shop.test>"

FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Lucas", "Mia", "Ethan", "Sophie", "James", "Chloe", "Daniel",
         "Grace", "Samuel", "Isla", "Henry", "Zoe", "Oscar", "Ella", "Leo"]
LAST = ["Smith", "Brown", "Wilson", "Taylor", "Clarke", "Hughes", "Walker", "Wright", "Green", "Hall", "Baker", "King"]
ZH_NAMES = ["王芳", "李伟", "张敏", "刘洋", "陈静", "杨磊", "赵丽", "黄强", "周婷", "吴昊", "徐娜", "孙杰"]

# (subject, the customer's email, the team's answer): earlier threads get the answer
# that fits, so "From similar emails" in the window offers useful replies.
EN = {
    "INBOX": [
        ("Where is my order {order}?",
         "Hi,\n\nI ordered {item} on Monday (order {order}) and it still has not arrived. The tracking page has not changed for three days. Can you check?\n\nThanks,\n{name}",
         "Hello {first},\n\nThank you for your patience, and sorry that order {order} is late. The carrier had a sorting delay at their hub; your parcel left it this morning and should reach you within two working days.\n\nIf it has not arrived by Friday, just reply to this email and we will send a replacement at once.\n\nKind regards,\nShop Support"),
        ("Change delivery address for {order}",
         "Hello,\n\nI have moved. Could you send order {order} to 14 Harbour Street, Leeds LS1 4AB instead?\n\nBest,\n{name}",
         "Hello {first},\n\nThank you for letting us know. We have changed the delivery address of order {order} to 14 Harbour Street, Leeds LS1 4AB; the dispatch date stays the same.\n\nYou will receive an updated confirmation by email shortly.\n\nKind regards,\nShop Support"),
        ("Wrong size delivered",
         "Hi there,\n\nI ordered {item} in medium but received large (order {order}). What should I do?\n\n{name}",
         "Hi {first},\n\nSorry that you received the wrong size. We have sent {item} in medium today (order {order}), and a prepaid return label for the large one is attached. There is no charge for either.\n\nBest wishes,\nShop Support"),
        ("Cancel order {order}",
         "Please cancel order {order}, I ordered {item} twice by mistake.\n\nRegards,\n{name}",
         "Hello {first},\n\nNo problem: we have cancelled order {order} before dispatch. The payment hold on your card is released within 3–5 working days.\n\nKind regards,\nShop Support"),
    ],
    "Billing": [
        ("Charged twice for {order}",
         "Hello,\n\nMy card was charged twice for order {order} ({amount}). Please refund the duplicate payment.\n\n{name}",
         "Hi {first},\n\nSorry for the trouble. We have refunded the duplicate payment of {amount} for order {order}; it usually reaches your account within 3–5 working days.\n\nBest wishes,\nShop Support"),
        ("Invoice for order {order}",
         "Hi,\n\nCould you send me a VAT invoice for order {order}? Our company name is {name} Ltd.\n\nThank you",
         "Hello,\n\nThank you for your message. The VAT invoice for order {order}, made out to {name} Ltd, is attached. You can also download invoices from the Orders page of your account.\n\nKind regards,\nShop Support"),
        ("Discount code not applied",
         "Hi,\n\nThe code SPRING15 was not applied to order {order}, I paid {amount}. Can you refund the difference?\n\n{name}",
         "Hi {first},\n\nSorry that the code SPRING15 was not applied. We have refunded the 15% difference for order {order} to your card; it arrives within 3–5 working days.\n\nBest wishes,\nShop Support"),
    ],
    "Returns": [
        ("Return label for {item}",
         "Hello,\n\nI would like to return {item} from order {order}. Could you send me a return label?\n\nThanks, {name}",
         "Hello {first},\n\nYour return label for {item} (order {order}) is attached to this email. Drop the parcel at any post office within 14 days; we refund as soon as it reaches us.\n\nKind regards,\nShop Support"),
        ("Refund not received yet",
         "Hi,\n\nI sent back {item} two weeks ago (order {order}) and I still have not received my refund of {amount}.\n\n{name}",
         "Hi {first},\n\nSorry for the wait. Your return of {item} (order {order}) reached us on Tuesday and the refund of {amount} was issued today; it usually shows within 3–5 working days.\n\nBest wishes,\nShop Support"),
        ("Damaged item",
         "Hello,\n\n{item} arrived broken (order {order}). I attached nothing because my phone camera is broken too. What now?\n\n{name}",
         "Hello {first},\n\nWe are sorry that {item} arrived broken. No photo is needed: we have sent a replacement today (order {order}), and you can recycle the broken one.\n\nKind regards,\nShop Support"),
    ],
}
ZH = {
    "INBOX": [
        ("订单 {order} 还没有到",
         "您好：\n\n我在周一下单购买了{item_zh}（订单 {order}），到现在还没有收到，物流信息三天没有更新了。麻烦帮忙查一下。\n\n谢谢！\n{name}",
         "{name}，您好：\n\n感谢您的耐心等待，订单 {order} 延误非常抱歉。快递公司的分拣中心出现积压，您的包裹今天上午已经发出，预计两个工作日内送达。\n\n如果周五前仍未收到，请直接回复此邮件，我们会立即补发。\n\n此致\n客服团队"),
        ("修改订单 {order} 的收货地址",
         "您好，我搬家了，请把订单 {order} 改寄到上海市徐汇区漕溪北路 88 号。谢谢！\n{name}",
         "{name}，您好：\n\n收到。订单 {order} 的收货地址已改为上海市徐汇区漕溪北路 88 号，发货时间不变，稍后您会收到更新后的确认邮件。\n\n此致\n客服团队"),
    ],
    "Billing": [
        ("订单 {order} 重复扣款",
         "您好：\n\n订单 {order} 被扣了两次款（{amount}），请退回重复的款项。\n\n{name}",
         "{name}，您好：\n\n给您带来不便非常抱歉。订单 {order} 重复扣除的 {amount} 已经退回，通常 3–5 个工作日到账。\n\n此致\n客服团队"),
        ("申请开具发票",
         "您好，请为订单 {order} 开具增值税发票，抬头是{name}的公司。谢谢。",
         "{name}，您好：\n\n订单 {order} 的增值税发票已开具，见附件。您也可以在账户的“我的订单”页面下载发票。\n\n此致\n客服团队"),
    ],
    "Returns": [
        ("退货申请：{item_zh}",
         "您好：\n\n我想退回订单 {order} 中的{item_zh}，请问怎么办理退货？\n\n{name}",
         "{name}，您好：\n\n订单 {order} 中{item_zh}的退货标签见附件，请在 14 天内到任意邮局寄出，我们收到后立即退款。\n\n此致\n客服团队"),
        ("退款还没有到账",
         "您好，我两周前寄回了{item_zh}（订单 {order}），退款 {amount} 还没有到账，请帮忙查询。\n\n{name}",
         "{name}，您好：\n\n抱歉让您久等。您退回的{item_zh}（订单 {order}）已于周二收到，退款 {amount} 今天已经办理，通常 3–5 个工作日到账。\n\n此致\n客服团队"),
    ],
}
ITEMS = [("a rain jacket", "雨衣"), ("running shoes", "跑鞋"), ("a desk lamp", "台灯"), ("a wool scarf", "羊毛围巾"),
         ("a coffee grinder", "咖啡研磨机"), ("noise-cancelling headphones", "降噪耳机"), ("a backpack", "双肩包")]
FOLLOW_UPS_EN = ["Thanks, but it still has not arrived. Any news?", "I received the label, but the post office says it is invalid.",
                 "The refund has not shown up yet, can you check again?"]
FOLLOW_UPS_ZH = ["谢谢，但是还是没有收到，请问有进展吗？", "退款还是没有到账，麻烦再查一下。"]


def customer(rng, i):
    if rng.random() < 0.35:
        name = rng.choice(ZH_NAMES)
        return name, f"cust{i:03d}@example.com", "zh"
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return f"{first} {last}", f"cust{i:03d}@example.com", "en"


def build(sender, to, subject, body, date, message_id, in_reply_to=None, references=()):
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = email.utils.format_datetime(date)
    m["Message-ID"] = message_id
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
        m["References"] = " ".join(references)
    m.set_content(body)
    return m


def fill(rng, lang, queue, name, order):
    item_en, item_zh = rng.choice(ITEMS)
    amount = f"£{rng.randint(12, 240)}.{rng.randint(0, 99):02d}" if lang == "en" else f"¥{rng.randint(80, 1800)}"
    subject, body, answer = rng.choice((ZH if lang == "zh" else EN)[queue])
    args = dict(order=order, item=item_en, item_zh=item_zh, amount=amount, name=name, first=name.split()[0])
    return subject.format(**args), body.format(**args), answer.format(**args)


def at(ts):
    return datetime.datetime.fromtimestamp(ts).astimezone()


def append(imap, folder, msg, when, flags=""):
    date = imaplib.Time2Internaldate(when)
    typ, data = imap.append(folder, flags, date, msg.as_bytes())
    if typ != "OK":
        raise SystemExit(f"APPEND to {folder} failed: {data}")


def seed(args):
    rng = random.Random(20261125)
    imap = imaplib.IMAP4(args.host, args.imap_port)
    imap.login(args.user, args.password)
    for f in ("Billing", "Returns", "Sent"):
        imap.create(f)
    imap.select("INBOX")
    typ, data = imap.search(None, "HEADER", "Message-ID", MARKER)
    if typ == "OK" and data and data[0].split():
        print("demo-seed: already seeded")
        imap.logout()
        return
    support = f"Shop Support <{args.user}@{DOMAIN}>"
    now = time.time()
    open_count = answered = 0
    for i in range(args.customers):
        name, addr, lang = customer(rng, i)
        queue = rng.choice(["INBOX", "INBOX", "Billing", "Returns"])
        order = f"SO-{rng.randint(100000, 999999)}"
        sender = f"{name} <{addr}>"
        # Earlier conversation, answered by the team (history for the customer panel).
        if rng.random() < 0.45:
            when = now - rng.randint(2, 40) * 86400
            subject, body, reply = fill(rng, lang, queue, name, order)
            mid = f"<old{i}.{order}@example.com>"
            append(imap, queue, build(sender, f"support@{DOMAIN}", subject, body, at((when)), mid), when, "(\\Seen \\Answered)")
            rid = f"<r{i}.{order}@{DOMAIN}>"
            rwhen = when + rng.randint(600, 7200)
            append(imap, "Sent", build(support, addr, f"Re: {subject}", reply, at((rwhen)), rid, mid, [mid]), rwhen, "(\\Seen)")
            answered += 1
            # Sometimes the customer came back on that thread: open again.
            if rng.random() < 0.3:
                fwhen = now - rng.randint(5, 300) * 60
                text = rng.choice(FOLLOW_UPS_ZH if lang == "zh" else FOLLOW_UPS_EN)
                fid = f"<f{i}.{order}@example.com>"
                append(imap, queue, build(sender, f"support@{DOMAIN}", f"Re: {subject}", f"{text}\n\n{name}", at((fwhen)), fid, rid, [mid, rid]), fwhen)
                open_count += 1
                continue
        # Most customers have something open now, received over the last ~6 hours.
        if rng.random() < 0.8:
            when = now - rng.randint(1, 360) * 60
            order2 = f"SO-{rng.randint(100000, 999999)}"
            subject, body, _ = fill(rng, lang, queue, name, order2)
            mid = f"<n{i}.{order2}@example.com>"
            append(imap, queue, build(sender, f"support@{DOMAIN}", subject, body, at((when)), mid), when)
            open_count += 1
    marker = build(support, support, "Demo mailbox seeded", "This marker tells demo-seed.py not to seed twice.", email.utils.localtime(), MARKER)
    append(imap, "INBOX", marker, now - 86400 * 60, "(\\Seen \\Answered)")
    imap.logout()
    print(f"demo-seed: {args.customers} customers, {open_count} open conversations, {answered} answered threads")


def trickle(args):
    rng = random.Random()
    i = 0
    while True:
        i += 1
        name, _, lang = customer(rng, rng.randint(0, 999))
        addr = f"cust{900 + (i % 100):03d}@example.com"
        queue = rng.choice(["INBOX", "Billing", "Returns"])
        subject, body, _ = fill(rng, lang, queue, name, f"SO-{rng.randint(100000, 999999)}")
        msg = build(f"{name} <{addr}>", f"{args.user}@{DOMAIN}", subject, body, email.utils.localtime(), email.utils.make_msgid(domain="example.com"))
        with smtplib.SMTP(args.host, args.smtp_port) as s:
            s.send_message(msg)
        print(f"demo-seed: new mail from {addr}: {subject}", flush=True)
        time.sleep(args.trickle * rng.uniform(0.5, 1.5))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--imap-port", type=int, default=14143)
    p.add_argument("--smtp-port", type=int, default=12525)
    p.add_argument("--user", default="support")
    p.add_argument("--password", default="secret")
    p.add_argument("--customers", type=int, default=300)
    p.add_argument("--trickle", type=float, default=0, help="seconds between new customer emails (0: none)")
    args = p.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("demo-seed: loopback only")
    seed(args)
    if args.trickle > 0:
        try:
            trickle(args)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
