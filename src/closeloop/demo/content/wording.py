"""Wording shared by every topic: greetings, signatures, chasers, thanks."""

from __future__ import annotations

GREETINGS = {
    "zh_CN": ("{name}，您好：\n\n", "您好，\n\n", "{name}您好，\n\n"),
    "en": ("Hi {first},\n\n", "Hello {first},\n\n", "Dear {name},\n\n"),
}
SIGNATURES = {
    "zh_CN": (
        "\n\n祝好\n{agent}",
        "\n\n{agent} | 技术支持中心",
        "\n\n如有疑问请直接回复。\n{agent}",
    ),
    "en": ("\n\nBest regards,\n{agent}", "\n\nCheers,\n{agent}", "\n\nKind regards,\n{agent}"),
}
CUSTOMER_CHASERS = {
    "zh_CN": (
        "请问现在有进展吗？比较着急。",
        "补充一下：同部门的 {count} 个同事也遇到了同样的问题。",
        "麻烦尽快处理，谢谢！",
    ),
    "en": (
        "Any update on this? It's blocking my team.",
        "One more thing: {count} colleagues in my department have the same problem.",
        "Could you please look at this soon? Thanks!",
    ),
}
CUSTOMER_THANKS = {
    "zh_CN": ("好的，已经正常了，谢谢！", "问题解决了，感谢你们的帮助。", "收到，辛苦了！"),
    "en": ("Works now, thank you!", "All good now, thanks for the help.", "Perfect, thanks!"),
}
CUSTOMER_REOPENS = {
    "zh_CN": ("今天问题又出现了，和之前一模一样。", "还是不行，麻烦再看一下。"),
    "en": ("It happened again today, exactly the same.", "Sorry, still not working."),
}
THIRD_PARTY_NOTES = {
    "zh_CN": ("已提交给供应商处理，等待对方回复，工单号 {case_no}。",),
    "en": ("Escalated to the vendor, waiting for their answer (case {case_no}).",),
}
ASK_FOR_INFO = {
    "zh_CN": ("为了进一步排查，麻烦您提供一下出现问题时的截图和大概时间。",),
    "en": ("To dig further, could you send a screenshot and roughly when it happened?",),
}
AGENT_UPDATES = {
    "zh_CN": (
        "感谢您的补充，我们根据您提供的信息继续排查，有进展会第一时间通知您。",
        "已经升级给二线工程师处理，预计今天下班前给您答复。",
        "我们还在和相关同事确认，请再稍等一下，给您带来不便非常抱歉。",
    ),
    "en": (
        "Thanks for the details – we're looking into it and will update you as soon as we can.",
        "I've escalated this to our second-line engineers; expect an answer by the end of today.",
        "We're still checking with the team – sorry for the wait, we'll be back to you shortly.",
    ),
}
