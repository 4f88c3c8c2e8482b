import { describe, expect, it } from "vitest";
import type { TeamTemplate } from "./api";
import { emailLanguage, rankTemplates } from "./templates";

const tpl = (name: string, queue: string, language: string) => ({ name, queue, language }) as TeamTemplate;
const names = (list: TeamTemplate[]) => list.map((x) => x.name);

describe("emailLanguage", () => {
  it("is Chinese when the subject holds an ideograph", () => {
    expect(emailLanguage("订单在哪里")).toBe("zh");
    expect(emailLanguage("Re: 退款 refund")).toBe("zh");
  });
  it("is English otherwise", () => {
    expect(emailLanguage("Where is my order?")).toBe("en");
    expect(emailLanguage("")).toBe("en");
  });
});

describe("rankTemplates", () => {
  const all = [
    tpl("Zeta other-en", "Billing", "en"),
    tpl("Alpha other-zh", "Billing", "zh-CN"),
    tpl("Beta same-zh", "INBOX", "zh-CN"),
    tpl("Gamma same-en", "INBOX", "en"),
    tpl("Aardvark same-en", "INBOX", "en-GB"),
  ];

  it("puts the email's queue and language first, then queue, then language, then the rest", () => {
    expect(names(rankTemplates(all, "INBOX", "Where is my order?"))).toEqual([
      "Aardvark same-en",
      "Gamma same-en",
      "Beta same-zh",
      "Zeta other-en",
      "Alpha other-zh",
    ]);
  });

  it("follows a Chinese subject", () => {
    expect(names(rankTemplates(all, "INBOX", "订单在哪里"))).toEqual([
      "Beta same-zh",
      "Aardvark same-en",
      "Gamma same-en",
      "Alpha other-zh",
      "Zeta other-en",
    ]);
  });

  it("ranks queue above language", () => {
    const list = [tpl("Other queue, right language", "Billing", "en"), tpl("Same queue, wrong language", "INBOX", "zh")];
    expect(names(rankTemplates(list, "INBOX", "Hello"))).toEqual(["Same queue, wrong language", "Other queue, right language"]);
  });

  it("sorts by name alone when nothing is open", () => {
    expect(names(rankTemplates(all, "", ""))).toEqual([
      "Aardvark same-en",
      "Gamma same-en",
      "Zeta other-en",
      "Alpha other-zh",
      "Beta same-zh",
    ]);
  });

  it("leaves its input alone", () => {
    const copy = [...all];
    rankTemplates(all, "INBOX", "x");
    expect(all).toEqual(copy);
  });
});
