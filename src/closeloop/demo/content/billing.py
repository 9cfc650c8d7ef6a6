"""Billing topics: invoices (发票), refunds (退款), payments, pricing."""

from __future__ import annotations

from closeloop.demo.content.topic import BILLING, Scenario, Script, Topic
from closeloop.tickets.domain import TicketType

TOPICS: tuple[Topic, ...] = (
    Topic(
        key="invoice",
        team=BILLING,
        ticket_type=TicketType.request,
        urgency=0,
        tags=("invoice", "发票"),
        weight=10,
        scenarios=(
            Scenario((0,), 0, (0,), (0,), (0,)),
            Scenario((1,), 1, (1,), (1,), (1,)),
            Scenario((2,), 2, (2,), (0, 2), (0,)),
            Scenario((3,), 3, (3,), (2,), (2,)),
        ),
        zh=Script(
            subjects=(
                "申请开具{month}的增值税专用发票",
                "发票抬头开错了，需要重开",
                "还没有收到订单 {order} 的发票",
                "电子发票下载不了",
            ),
            descriptions=(
                "您好，我们公司需要{month}服务费 {amount} 的增值税专用发票，开票信息如下：\n"
                "名称：{company}\n税号：{tax_id}\n请开好后发到我的邮箱，谢谢。",
                "收到的发票（号码 {invoice}）抬头少了“有限公司”四个字，"
                "财务不能报销，麻烦作废重开。",
                "订单 {order} 已经付款两周了，一直没有收到发票，麻烦查一下。",
                "在控制台点“下载发票”一直提示系统繁忙，试了好几次都不行。",
            ),
            replies=(
                "您好，开票申请已收到，我们会在 3 个工作日内开具并发送到您的邮箱，请注意查收。",
                "非常抱歉给您带来不便。原发票 {invoice} 已提交作废，新发票预计明天开出。",
                "我们查到订单 {order} 的发票已于上周开具，可能被邮箱拦截了，已重新发送到您的邮箱。",
                "下载服务今天上午出现故障，目前已经恢复，"
                "请您再试一次；我们也把 PDF 发到了您的邮箱。",
            ),
            follow_ups=(
                "请问发票开好了吗？月底前要入账。",
                "新发票收到了，但是税号还是旧的，能再确认一下吗？",
                "已经收到，谢谢！",
            ),
            notes=(
                "客户的税号和工商信息核对一致，可以开具专票。",
                "开票系统今天上午维护，{count} 张待开票据已排队。",
                "原发票已跨月，需要走红字发票流程，已通知财务。",
            ),
            resolutions=(
                "发票已开具（号码 {invoice}），PDF 已发送到您的邮箱，纸质发票通过顺丰寄出。",
                "新发票已重新开具并发送，请查收，如有问题随时联系我们。",
                "下载功能已恢复正常，发票 PDF 也已发送到您的邮箱。",
            ),
        ),
        en=Script(
            subjects=(
                "Invoice needed for {month_en}",
                "Wrong company name on invoice – please reissue",
                "No invoice received for order {order}",
                "Cannot download e-invoice",
            ),
            descriptions=(
                "Hello, please send us the VAT invoice for the {month_en} service fee of "
                "{amount_en}.\nCompany: {company}\nVAT number: {tax_id}\nThank you.",
                "Invoice {invoice} is missing 'Ltd' in our company name, so finance can't book "
                "it. Could you cancel and reissue it?",
                "We paid order {order} two weeks ago and still have no invoice.",
                "'Download invoice' in the console keeps saying 'system busy'.",
            ),
            replies=(
                "Thanks – your invoice request is in. It will be issued within 3 working days "
                "and emailed to you.",
                "Sorry for the trouble. Invoice {invoice} has been voided and the corrected one "
                "will be issued tomorrow.",
                "Invoice for order {order} was issued last week and probably got caught by a "
                "spam filter; we've sent it again.",
                "The download service had an outage this morning and is "
                "back now – please try again. We've also emailed you the PDF.",
            ),
            follow_ups=(
                "Is the invoice ready? We need to book it before month end.",
                "Got the new invoice, but it still has the old VAT number.",
                "Received, thanks!",
            ),
            notes=(
                "Customer's tax details checked against the registry – OK to issue.",
                "Invoicing system under maintenance this morning; {count} invoices queued.",
                "Original invoice is from last month – needs a credit note first; finance told.",
            ),
            resolutions=(
                "Invoice {invoice} is issued; the PDF is in your inbox and the paper copy is on "
                "its way.",
                "The corrected invoice has been issued and sent. Let us know if anything is off.",
                "Downloads work again, and the invoice PDF is in your inbox too.",
            ),
        ),
    ),
    Topic(
        key="refund",
        team=BILLING,
        ticket_type=TicketType.complaint,
        urgency=0,
        tags=("refund", "退款", "payment"),
        weight=8,
        scenarios=(
            Scenario((0,), 0, (0,), (1,), (0,)),
            Scenario((1,), 1, (1,), (2,), (1,)),
            Scenario((2,), 2, (2,), (0,), (0,)),
        ),
        zh=Script(
            subjects=(
                "申请退款：订单 {order}",
                "重复扣款 {amount}，请尽快退款",
                "退款申请提交一周了还没到账",
            ),
            descriptions=(
                "订单 {order} 的服务我们没有使用，按合同可以全额退款，请帮忙处理，金额 {amount}。",
                "今天续费时支付了两次，银行卡被扣了两笔 {amount}，请把多扣的那笔退回来。",
                "上周提交了退款申请，说 3-5 个工作日到账，到现在还没有收到，也没有人联系我。",
            ),
            replies=(
                "您好，已核实订单 {order} 符合退款条件，退款 "
                "{amount} 将原路退回，预计 3-7 个工作日到账。",
                "非常抱歉，我们确认支付网关重复扣款，多扣的 "
                "{amount} 已发起退款，流水号 {case_no}。",
                "抱歉让您久等了。我们查到退款因银行信息不完整被退回，"
                "请提供开户行全称，我们会马上重新提交。",
            ),
            follow_ups=(
                "开户行是中国工商银行上海分行营业部。",
                "已经过了 7 个工作日，还是没有到账。",
                "退款收到了，谢谢。但希望以后不要再出现重复扣款。",
            ),
            notes=(
                "重复扣款是支付渠道回调超时导致的，已报给研发，缺陷号 {bug_no}。",
                "退款金额超过 5000 元，需要财务经理审批，已提交。",
                "已电话联系客户确认退款金额和账户信息。",
            ),
            resolutions=(
                "退款已完成，银行流水号 {case_no}，请注意查收。再次为给您带来的不便致歉。",
                "多扣款项已全额退回，我们已修复支付回调的问题。",
            ),
        ),
        en=Script(
            subjects=(
                "Refund request for order {order}",
                "Charged twice ({amount_en}) – please refund",
                "Refund requested a week ago, still nothing",
            ),
            descriptions=(
                "We never used the service in order {order}; under the contract it's fully "
                "refundable. Amount: {amount_en}.",
                "The renewal charged my card twice, {amount_en} each. Please refund the duplicate.",
                "I requested a refund last week and was told 3–5 working days. Nothing has "
                "arrived and nobody contacted me.",
            ),
            replies=(
                "Order {order} qualifies for a refund. {amount_en} will go back to the original "
                "payment method within 3–7 working days.",
                "Really sorry – the payment gateway did charge you twice. The duplicate "
                "{amount_en} is being refunded, reference {case_no}.",
                "Sorry for the wait. The bank rejected the refund because the account details "
                "were incomplete. Could you send the full bank name? We'll resubmit right away.",
            ),
            follow_ups=(
                "The bank is HSBC UK, sort code 40-11-62.",
                "It's been 7 working days and still nothing.",
                "Refund received, thanks. Please make sure the double charge doesn't happen again.",
            ),
            notes=(
                "Duplicate charge caused by a payment callback timeout – bug {bug_no} filed.",
                "Refund above the 5,000 limit needs finance manager approval; submitted.",
                "Called the customer to confirm the amount and account details.",
            ),
            resolutions=(
                "The refund is done, bank reference {case_no}. Apologies again for the trouble.",
                "The duplicate charge has been refunded in full and the callback bug is fixed.",
            ),
        ),
    ),
    Topic(
        key="payment",
        team=BILLING,
        ticket_type=TicketType.fault,
        urgency=0,
        tags=("payment",),
        weight=5,
        scenarios=(
            Scenario((0,), 0, (0,), (1,), (1,)),
            Scenario((1,), 1, (1,), (0,), (0,)),
            Scenario((2,), 2, (0, 2), (1, 2), (1,)),
        ),
        zh=Script(
            subjects=(
                "续费时支付失败",
                "对公转账后订单状态没有更新",
                "微信支付提示“订单已过期”",
            ),
            descriptions=(
                "用公司信用卡续费时一直提示“支付失败，请稍后重试”，卡是正常的，额度也够。",
                "我们 {date} 已经对公转账 {amount}，但是控制台上订单 {order} 还是“待支付”。",
                "扫码用微信支付的时候提示“订单已过期”，重新下单也一样。",
            ),
            replies=(
                "您好，我们看到支付网关返回的是“发卡行拒绝”，"
                "建议联系发卡行确认是否开通了境外/网上支付。",
                "对公转账需要 1-2 个工作日核对，麻烦提供一下转账回单截图，我们可以加急处理。",
                "订单二维码有效期是 2 小时，我们已为您重新生成了订单，请在控制台刷新后支付。",
            ),
            follow_ups=(
                "回单截图已附上。",
                "银行说没有拦截，还是付不了。",
                "支付成功了，谢谢。",
            ),
            notes=(
                "财务已在银行流水中找到该笔转账，备注缺少订单号，已手工匹配。",
                "支付渠道今天有一次 {count} 分钟的故障，可能有关。",
            ),
            resolutions=(
                "款项已核对到账，订单 {order} 已更新为“已支付”，服务已续期。",
                "支付已完成，服务有效期已延长一年。",
            ),
        ),
        en=Script(
            subjects=(
                "Payment fails on renewal",
                "Bank transfer sent, order still unpaid",
                "Card payment declined at checkout",
            ),
            descriptions=(
                "Renewing with our company credit card keeps failing with 'payment failed, try "
                "again later'. The card is fine and has enough limit.",
                "We wired {amount_en} on {date}, but order {order} in the console still says "
                "'awaiting payment'.",
                "Checkout says 'card declined' every time, with two different cards.",
            ),
            replies=(
                "The gateway reports 'declined by issuer'. Please ask your bank whether online "
                "or foreign payments are enabled on the card.",
                "Bank transfers take 1–2 working days to reconcile. If you send us the remittance "
                "advice we can speed it up.",
                "We've created a fresh order for you – please refresh the console and pay again.",
            ),
            follow_ups=(
                "Remittance advice attached.",
                "The bank says they didn't block anything.",
                "Payment went through, thanks.",
            ),
            notes=(
                "Finance found the transfer; the order number was missing from the reference. "
                "Matched by hand.",
                "Payment provider had a {count}-minute outage today, possibly related.",
            ),
            resolutions=(
                "Payment reconciled; order {order} is paid and the service renewed.",
                "Payment completed and the subscription extended by a year.",
            ),
        ),
    ),
    Topic(
        key="pricing",
        team=BILLING,
        ticket_type=TicketType.inquiry,
        urgency=1,
        tags=("pricing", "renewal"),
        weight=4,
        scenarios=(
            Scenario((0,), 0, (0,), (0, 1), (0,)),
            Scenario((1,), 1, (1,), (1,), (0,)),
        ),
        zh=Script(
            subjects=(
                "咨询续费价格和折扣",
                "想增加 {count} 个用户席位，费用怎么算？",
            ),
            descriptions=(
                "我们的合同{month}到期，想了解一下续费三年有没有优惠，另外能否按季度付款？",
                "团队扩大了，需要再加 {count} 个席位，请问是按剩余合同期折算吗？",
            ),
            replies=(
                "您好，三年期续费可以享受 85 折，按季度付款也可以，报价单已发送到您的邮箱。",
                "新增席位按剩余合同期按天折算，{count} "
                "个席位的费用约为 {amount}，正式报价稍后发您。",
            ),
            follow_ups=(
                "报价收到了，能否再申请一点折扣？",
                "好的，我们内部走一下审批流程。",
            ),
            notes=("客户年度合同额较大，可申请特批 8 折，已找销售确认。",),
            resolutions=("报价和合同草稿已发送，如有其他问题欢迎随时联系。",),
        ),
        en=Script(
            subjects=(
                "Renewal pricing and discounts",
                "Adding {count} seats – how is it charged?",
            ),
            descriptions=(
                "Our contract ends in {month_en}. Is there a discount for a three-year renewal, "
                "and can we pay quarterly?",
                "Our team grew and we need {count} more seats. Are they prorated to the end of "
                "the contract?",
            ),
            replies=(
                "A three-year renewal comes with 15% off, and quarterly payment is possible. The "
                "quote is in your inbox.",
                "Extra seats are prorated by day; {count} seats would be about {amount_en}. The "
                "formal quote follows shortly.",
            ),
            follow_ups=(
                "Got the quote – is there any room on the discount?",
                "Thanks, we'll take it through internal approval.",
            ),
            notes=(
                "Large annual contract – a special 20% discount can be requested; asked sales.",
            ),
            resolutions=(
                "Quote and draft contract sent. Let us know if you have any other questions.",
            ),
        ),
    ),
)
