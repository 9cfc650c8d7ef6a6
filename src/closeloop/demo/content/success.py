"""Customer success topics: how-to questions, training, complaints, the API."""

from __future__ import annotations

from closeloop.demo.content.topic import SUCCESS, Scenario, Script, Topic
from closeloop.tickets.domain import TicketType

TOPICS: tuple[Topic, ...] = (
    Topic(
        key="report_export",
        team=SUCCESS,
        ticket_type=TicketType.inquiry,
        urgency=1,
        tags=("how-to", "reports"),
        weight=6,
        scenarios=(
            Scenario((0,), 0, (0,), (0,), (0,)),
            Scenario((1,), 1, (1,), (1,), (2,)),
            Scenario((2,), 2, (2,), (2,), (1,)),
        ),
        zh=Script(
            subjects=(
                "如何导出月度报表？",
                "报表里的数据和后台对不上",
                "能否定时把报表发到邮箱？",
            ),
            descriptions=(
                "请问在哪里可以把{month}的工单统计导出成 Excel？找了半天没找到按钮。",
                "{month}报表显示处理了 {count} "
                "单，但是后台列表筛选出来的数量不一样，是哪里的问题？",
                "领导希望每周一早上自动收到上周的报表，系统支持吗？",
            ),
            replies=(
                "您好，在“报表 → 工单统计”页面右上角有“导出”按钮，可以选择 Excel 或 CSV 格式。"
                "操作截图已附上。",
                "报表默认按“解决时间”统计，列表筛选的是“创建时间”，"
                "两者口径不同，所以数量会有差异。",
                "支持的，在报表页面点击“订阅”，选择每周一 8:00，并填写收件人邮箱即可。",
            ),
            follow_ups=(
                "找到了，谢谢！导出的时间是北京时间吗？",
                "明白了，能不能在报表里也按创建时间统计？",
                "订阅好了，谢谢！能否同时抄送给我？",
            ),
            notes=(
                "这个问题最近问得比较多，建议补充到知识库。",
                "已把“按创建时间统计”的需求记录到产品需求池，编号 {bug_no}。",
            ),
            resolutions=(
                "导出时间使用您个人设置中的时区（默认北京时间）。相关说明已更新到知识库。",
                "已为您配置好每周报表订阅，下周一开始生效。",
                "需求已记录。目前可以在列表中按“解决时间”筛选，数量就会和报表一致。",
            ),
        ),
        en=Script(
            subjects=(
                "How do I export the monthly report?",
                "Report numbers don't match the ticket list",
                "Can reports be emailed on a schedule?",
            ),
            descriptions=(
                "Where can I export the {month_en} ticket statistics to Excel? I can't find the "
                "button.",
                "The {month_en} report says {count} tickets were handled, but filtering the list "
                "gives a different number. Which one is right?",
                "My manager wants last week's report in his inbox every Monday morning. Is that "
                "possible?",
            ),
            replies=(
                "Hi! On 'Reports → Tickets' there's an 'Export' button at the top right; you can "
                "choose Excel or CSV. Screenshot attached.",
                "The report counts by resolution date while the list filters by creation date, "
                "so the numbers differ.",
                "Yes: click 'Subscribe' on the report page, choose Monday 08:00 and add the "
                "recipients.",
            ),
            follow_ups=(
                "Found it, thanks! Are the exported times in my time zone?",
                "Makes sense. Could the report count by creation date too?",
                "Subscribed, thanks! Can I be copied too?",
            ),
            notes=(
                "Asked often lately – worth a knowledge base article.",
                "Logged 'count by creation date' as feature request {bug_no}.",
            ),
            resolutions=(
                "Exports use the time zone in your profile. The knowledge base article is "
                "updated as well.",
                "Your weekly report subscription is set up and starts next Monday.",
                "Request logged. Meanwhile, filter the list by "
                "resolution date and the numbers will match the report.",
            ),
        ),
    ),
    Topic(
        key="training",
        team=SUCCESS,
        ticket_type=TicketType.request,
        urgency=1,
        tags=("training", "onboarding"),
        weight=4,
        scenarios=(
            Scenario((0,), 0, (0,), (0, 1), (0,)),
            Scenario((1,), 1, (1,), (1,), (0,)),
        ),
        zh=Script(
            subjects=(
                "申请新员工产品培训",
                "希望安排一次管理员功能的线上培训",
            ),
            descriptions=(
                "我们新来了 {count} 位客服同事，想预约一次产品使用培训，最好是下周二或周三下午。",
                "我们刚接手系统管理员的工作，希望能安排一次关于 SLA 和自动分配规则的培训。",
            ),
            replies=(
                "好的，已为您预约下周三 14:00-15:30 的线上培训，会议链接和培训资料已发到您的邮箱。",
                "没问题，我们的客户成功经理会联系您确认时间，培训大约 1 小时。",
            ),
            follow_ups=(
                "时间可以，请问能录屏吗？方便以后新同事观看。",
                "能不能改到周四上午？周三有别的安排。",
            ),
            notes=("客户处于上线第一个月，建议安排两次跟进回访。",),
            resolutions=("培训已完成，录屏和课件已发送，欢迎随时反馈问题。",),
        ),
        en=Script(
            subjects=(
                "Product training for new agents",
                "Online session on admin features",
            ),
            descriptions=(
                "We have {count} new support agents and would like a product training, ideally "
                "next Tuesday or Wednesday afternoon.",
                "We just took over administration and would like a session on SLA policies and "
                "assignment rules.",
            ),
            replies=(
                "Booked for next Wednesday 14:00–15:30 (online); the invitation and the slides "
                "are in your inbox.",
                "Sure – your customer success manager will contact you to fix a time; it takes "
                "about an hour.",
            ),
            follow_ups=(
                "Works for us. Could you record it for future hires?",
                "Could we move it to Thursday morning instead?",
            ),
            notes=("First month after go-live – plan two follow-up calls.",),
            resolutions=(
                "Training done; the recording and slides have been sent. Feedback welcome!",
            ),
        ),
    ),
    Topic(
        key="service_complaint",
        team=SUCCESS,
        ticket_type=TicketType.complaint,
        urgency=-1,
        tags=("complaint", "escalation"),
        weight=4,
        scenarios=(
            Scenario((0,), 0, (0, 1), (0, 1), (0,)),
            Scenario((1,), 1, (0, 1), (0, 1), (1,)),
        ),
        zh=Script(
            subjects=(
                "投诉：问题反馈三次都没有解决",
                "对服务响应速度非常不满意",
            ),
            descriptions=(
                "同一个问题已经反馈三次了，每次都说已解决，结果第二天又出现。"
                "严重影响我们的业务，希望有负责人跟进。",
                "上周五提交的紧急工单，到周一下午才有人回复，这个响应速度我们无法接受。",
            ),
            replies=(
                "非常抱歉给您带来这么不好的体验。我是客户成功负责人{agent}，这个问题由我亲自跟进，"
                "今天下班前给您一个完整的处理方案。",
                "您的反馈我们非常重视，已经安排技术主管排查根本原因，每天下午 5 点向您同步进展。",
            ),
            follow_ups=(
                "好的，希望这次能彻底解决。",
                "今天还没有收到进展同步。",
            ),
            notes=(
                "已复盘：前两次只处理了表象，根因是配置同步任务失败，已修复并加了监控。",
                "建议给该客户赠送一个月服务作为补偿，已提交审批。",
            ),
            resolutions=(
                "根本原因已修复并上线监控，连续观察一周没有再出现。再次向您致歉，感谢您的耐心。",
                "我们已调整周末值班安排，紧急工单每天都会在 1 小时内响应。再次向您致歉。",
            ),
        ),
        en=Script(
            subjects=(
                "Complaint: reported three times, still not fixed",
                "Unacceptable response time",
            ),
            descriptions=(
                "We've reported the same issue three times. Each time it's 'solved' and the next "
                "day it's back. It's hurting our business – we want someone senior on this.",
                "Our urgent ticket from Friday got its first answer on Monday afternoon. That "
                "response time is not acceptable.",
            ),
            replies=(
                "I'm very sorry for this experience. I'm {agent}, head of customer success, and "
                "I'll follow this personally – you'll have a full plan from me by end of day.",
                "We take this seriously. Our technical lead is on the root cause and we'll update "
                "you every day at 17:00.",
            ),
            follow_ups=(
                "OK. I hope it's fixed for good this time.",
                "No update today yet.",
            ),
            notes=(
                "Post-mortem: the first two fixes treated symptoms; root cause was a failing "
                "config sync job. Fixed and monitored now.",
                "Proposed one free month as a goodwill gesture; approval requested.",
            ),
            resolutions=(
                "The root cause is fixed and monitored, and it hasn't recurred in a week. "
                "Apologies again and thank you for your patience.",
                "We've changed weekend on-call so urgent tickets get an "
                "answer within an hour, any day of the week. Apologies again.",
            ),
        ),
    ),
    Topic(
        key="api",
        team=SUCCESS,
        ticket_type=TicketType.inquiry,
        urgency=0,
        tags=("api", "integration"),
        weight=4,
        scenarios=(
            Scenario((0,), 0, (0,), (0,), (0,)),
            Scenario((1,), 1, (1,), (2,), (2,)),
            Scenario((2,), 2, (2,), (1,), (1,)),
        ),
        zh=Script(
            subjects=(
                "API 调用返回 429 Too Many Requests",
                "如何通过 API 批量创建工单？",
                "Webhook 收不到回调",
            ),
            descriptions=(
                "我们的系统每天同步数据时调用 API 经常返回 429，请问限流规则是怎样的？",
                "想把旧系统里的 {count} 条工单迁移过来，有没有批量接口或者导入工具？",
                "配置了 Webhook 地址，但是工单状态变化时我们这边收不到回调。",
            ),
            replies=(
                "默认限流是每个令牌每分钟 600 次，超出会返回 429 "
                "和 Retry-After 头。建议按头部等待后重试。",
                "可以使用 closeloop import 命令批量导入，支持 CSV 和 JSON，说明文档链接已发您。",
                "我们看到回调请求返回了 TLS 握手失败，请确认您的服务器证书链是否完整。",
            ),
            follow_ups=(
                "能否把我们的限额提高到每分钟 2000 次？",
                "证书链补全了，现在可以收到了。",
                "导入时提示有 3 条记录的日期格式不对，怎么处理？",
            ),
            notes=("客户的同步脚本没有做退避，建议他们使用增量同步接口。",),
            resolutions=(
                "已为您的令牌调整限额并提供了增量同步的示例代码，问题已解决。",
                "回调已恢复正常，投递记录可以在管理后台查看。",
                "{count} 条历史工单已全部导入完成，请抽查几条确认数据无误。",
            ),
        ),
        en=Script(
            subjects=(
                "API returns 429 Too Many Requests",
                "Bulk-creating tickets through the API",
                "Webhook callbacks not arriving",
            ),
            descriptions=(
                "Our nightly sync often gets 429 from the API. What are the rate limits?",
                "We want to migrate {count} tickets from our old system. Is there a bulk endpoint "
                "or an import tool?",
                "We configured a webhook URL but receive nothing when a ticket status changes.",
            ),
            replies=(
                "The default limit is 600 requests per minute per token; beyond that you get 429 "
                "with a Retry-After header. Please back off accordingly.",
                "Use the `closeloop import` command; it reads CSV and JSON. I've sent you the "
                "documentation link.",
                "Our delivery log shows a TLS handshake failure. Could you check that your server "
                "sends its full certificate chain?",
            ),
            follow_ups=(
                "Could you raise our limit to 2,000 per minute?",
                "Fixed the chain – callbacks arrive now.",
                "The import flagged 3 rows with a bad date format – what should we do?",
            ),
            notes=("Their sync script has no backoff; suggested the incremental sync endpoint.",),
            resolutions=(
                "Limit raised for your token and sample code for incremental sync sent – solved.",
                "Callbacks are delivered again; the delivery log is in the admin console.",
                "The import is finished: all {count} tickets "
                "are migrated. Please spot-check a few.",
            ),
        ),
    ),
)
