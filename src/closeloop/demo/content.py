"""What the demo tickets say: topics with Chinese and English wording, and the fillers that vary
them (printer models, invoice numbers, amounts…). Pure data and string filling, no I/O.

A text is a ``str.format`` template; the names in braces come from :func:`slot_values`.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from closeloop.tickets.domain import TicketType

SUPPORT = "support"
BILLING = "billing"
SUCCESS = "success"


@dataclass(frozen=True, slots=True)
class Script:
    """One language's wording of a topic."""

    subjects: tuple[str, ...]
    descriptions: tuple[str, ...]
    replies: tuple[str, ...]
    follow_ups: tuple[str, ...]
    notes: tuple[str, ...]
    resolutions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    key: str
    team: str
    ticket_type: TicketType
    # -1 makes the ticket more urgent than usual, +1 less.
    urgency: int
    tags: tuple[str, ...]
    weight: int
    zh: Script
    en: Script

    def script(self, locale: str) -> Script:
        return self.zh if locale == "zh_CN" else self.en


TOPICS: tuple[Topic, ...] = (
    Topic(
        key="printer",
        team=SUPPORT,
        ticket_type=TicketType.fault,
        urgency=0,
        tags=("printer", "hardware"),
        weight=9,
        zh=Script(
            subjects=(
                "{floor}楼打印机无法打印",
                "打印机显示脱机，任务一直在队列里",
                "{printer} 卡纸后无法继续打印",
                "新电脑连不上{floor}楼的打印机",
            ),
            descriptions=(
                "您好，{floor}楼财务室的 {printer} 从今天上午开始无法打印，电脑上显示“脱机”，"
                "重启过打印机也没有用。我们今天下午要打印报销单，麻烦尽快处理。",
                "打印任务发出去以后一直卡在队列里，状态是“错误-正在打印”。"
                "同事的电脑也一样，应该是打印机本身的问题。型号是 {printer}。",
                "刚领的新笔记本，按照说明添加打印机时提示“找不到网络路径”，"
                "打印机 IP 是 10.{subnet}.{host}.20。",
            ),
            replies=(
                "已收到。麻烦先在打印机面板上确认一下网络状态（设置 → 网络 → 有线），"
                "看看是否获取到了 10.{subnet}.x.x 的地址，拍照发给我们即可。",
                "我们远程看了一下，打印服务器上的队列有一个损坏的任务，已经清理掉了。"
                "请您再打印一张测试页试试。",
                "这台 {printer} 的驱动版本比较旧，我们已经推送了新驱动，"
                "请重启电脑后再试一下，有问题随时回复。",
            ),
            follow_ups=(
                "面板上显示的 IP 是 169.254 开头的，照片已附上。",
                "还是不行，测试页也打不出来，灯一直闪橙色。",
                "重启以后可以打印了，但是打印速度特别慢。",
            ),
            notes=(
                "交换机 {floor}F-SW02 的 {port} 口有大量 CRC 错误，怀疑网线问题，已安排现场更换。",
                "同楼层上周也报过一次，和 DHCP 地址池用尽有关，已扩容。",
                "已联系 {printer} 维保供应商，工程师明天上午上门。",
            ),
            resolutions=(
                "现场已更换网线并重新配置了固定 IP，打印机恢复正常。如果还有问题请直接回复本工单。",
                "已清理队列并更新驱动，测试页打印正常。这个工单我先标记为已解决。",
            ),
        ),
        en=Script(
            subjects=(
                "Printer on floor {floor} not printing",
                "Printer shows offline, jobs stuck in queue",
                "{printer} paper jam – cannot resume printing",
                "New laptop can't find the floor {floor} printer",
            ),
            descriptions=(
                "Hi, the {printer} in the finance room on floor {floor} stopped printing this "
                "morning. Windows says it is offline; we already power-cycled it. We need to print "
                "expense forms this afternoon, so this is fairly urgent.",
                "Print jobs stay in the queue with status 'Error – Printing'. My colleagues have "
                "the same problem, so I think it's the printer itself ({printer}).",
                "I just received a new laptop. Adding the printer fails with 'network path not "
                "found'. The printer IP is 10.{subnet}.{host}.20.",
            ),
            replies=(
                "Thanks for reporting this. Could you check the network status on the printer "
                "panel (Settings → Network → Wired) and send us a photo of the IP address it shows?",
                "We had a look remotely: one corrupted job was blocking the queue on the print "
                "server and we've removed it. Could you try printing a test page?",
                "The driver for this {printer} is outdated; we've pushed the current version. "
                "Please restart your laptop and try again.",
            ),
            follow_ups=(
                "The panel shows an address starting with 169.254 – photo attached.",
                "Still not working, even the test page fails and the light keeps blinking orange.",
                "It prints after the restart, but very slowly.",
            ),
            notes=(
                "Port {port} on switch {floor}F-SW02 shows lots of CRC errors; probably the patch "
                "cable. On-site visit scheduled.",
                "Same floor reported this last week – DHCP pool was exhausted, pool enlarged.",
                "Vendor maintenance for the {printer} called; technician on site tomorrow morning.",
            ),
            resolutions=(
                "We replaced the patch cable and gave the printer a fixed IP; it's printing again. "
                "Just reply here if anything else comes up.",
                "Queue cleared and driver updated; the test page printed fine. I'm marking this "
                "ticket as solved.",
            ),
        ),
    ),
    Topic(
        key="vpn",
        team=SUPPORT,
        ticket_type=TicketType.fault,
        urgency=-1,
        tags=("vpn", "network", "remote-work"),
        weight=9,
        zh=Script(
            subjects=(
                "VPN 连接失败，错误代码 {vpn_error}",
                "在家无法连接公司 VPN",
                "{vpn} 登录后马上断开",
            ),
            descriptions=(
                "今天在家办公，用 {vpn} 连接公司 VPN 一直失败，提示错误 {vpn_error}。"
                "昨天还是好的，没有改过任何设置。急需访问内网的{system}。",
                "VPN 能连上，但是大概 30 秒就自动断开，反复好几次了。网络是家里的宽带，"
                "别的网站都能正常打开。",
                "出差到{city}，酒店网络下 VPN 连不上，手机热点也试过，一样的错误。",
            ),
            replies=(
                "您好，错误 {vpn_error} 一般是证书或时间不同步导致的。麻烦确认一下电脑时间是否准确，"
                "然后把 {vpn} 升级到最新版本再试一次。",
                "我们查看了网关日志，您的账号在 {time} 有多次认证失败，"
                "可能是密码刚改过但客户端里还保存着旧密码。请在客户端里清除保存的密码后重新登录。",
                "酒店网络可能屏蔽了 UDP 端口，我们已经为您的账号开启了 TCP 443 备用通道，"
                "请在客户端里选择“备用网关”再连接。",
            ),
            follow_ups=(
                "时间是对的，客户端也升级了，还是报同样的错误。",
                "清除密码以后可以连上了，不过速度比较慢。",
                "换成备用网关可以了，谢谢！",
            ),
            notes=(
                "VPN 网关 vpn-gw-02 的证书 {days} 天后过期，已提交更换申请。",
                "用户在 AD 里被锁定了，已解锁，并提醒用户更新手机上的邮箱密码。",
                "今天上午 {vpn} 网关 CPU 一度 95%，和这个问题可能有关，已通知网络组。",
            ),
            resolutions=(
                "已确认是客户端证书过期导致的，重新下发证书后可以正常连接了。",
                "网关侧已修复，您的 VPN 连接测试正常。如果再次断线，请把客户端日志发给我们。",
            ),
        ),
        en=Script(
            subjects=(
                "VPN fails with error {vpn_error}",
                "Cannot connect to company VPN from home",
                "{vpn} disconnects right after login",
            ),
            descriptions=(
                "Working from home today and {vpn} keeps failing with error {vpn_error}. It worked "
                "yesterday and I haven't changed anything. I urgently need {system} on the "
                "intranet.",
                "The VPN connects but drops after about 30 seconds, again and again. Home "
                "broadband, every other website works fine.",
                "I'm travelling in {city} and the VPN won't connect from the hotel network or my "
                "phone hotspot – same error on both.",
            ),
            replies=(
                "Error {vpn_error} is usually caused by a certificate problem or a wrong system "
                "clock. Could you check your laptop's time and update {vpn} to the latest version?",
                "The gateway log shows several failed logins for your account at {time}. If you "
                "recently changed your password, the client may still have the old one saved – "
                "please clear it and log in again.",
                "Hotel networks often block UDP. We've enabled the TCP 443 fallback for your "
                "account; please pick 'Backup gateway' in the client and reconnect.",
            ),
            follow_ups=(
                "The clock is correct and the client is updated, same error though.",
                "Works after clearing the saved password, but it's slow.",
                "The backup gateway works, thanks!",
            ),
            notes=(
                "Certificate on vpn-gw-02 expires in {days} days – change request raised.",
                "User was locked out in AD (old password on the phone). Unlocked and told them.",
                "{vpn} gateway CPU hit 95% this morning, possibly related. Network team informed.",
            ),
            resolutions=(
                "It was an expired client certificate; we re-issued it and the VPN connects again.",
                "Fixed on the gateway side and your connection tests fine. If it drops again, "
                "please send us the client log.",
            ),
        ),
    ),
    Topic(
        key="login",
        team=SUPPORT,
        ticket_type=TicketType.fault,
        urgency=0,
        tags=("login", "account"),
        weight=10,
        zh=Script(
            subjects=(
                "无法登录{system}",
                "账号被锁定，无法登录",
                "登录时一直提示密码错误",
                "收不到登录验证码",
            ),
            descriptions=(
                "早上登录{system}时提示“用户名或密码错误”，我确认密码没有输错，"
                "连续试了几次之后账号被锁定了。请帮忙解锁。",
                "手机号换了以后收不到短信验证码，没法登录。新手机号是 {phone_hint}。",
                "用 {browser} 登录后页面一直转圈，换了浏览器也一样，同事可以正常登录。",
            ),
            replies=(
                "已为您解锁账号。为了安全，请在登录后修改密码，新密码需要至少 12 位并包含数字和字母。",
                "您好，验证码手机号需要本人在自助平台修改，"
                "我们已向您的邮箱发送了一个临时登录链接，30 分钟内有效。",
                "请清除 {browser} 的缓存和 Cookie 后重试，或者先用无痕窗口登录看看是否正常。",
            ),
            follow_ups=(
                "解锁后还是登录不了，提示“账号已停用”。",
                "临时链接打开显示已过期，能再发一次吗？",
                "无痕窗口可以登录，普通窗口还是不行。",
            ),
            notes=(
                "账号是因为 90 天未修改密码被策略自动停用的，已恢复。",
                "SSO 日志显示该用户的会话 token 损坏，已强制注销所有会话。",
                "这周已经第 {count} 个同类工单了，建议在登录页加上“忘记密码”的说明。",
            ),
            resolutions=(
                "账号已恢复，您现在可以正常登录。建议开启两步验证，方便以后自助找回。",
                "清理会话后已可以正常登录，如果再次出现请回复本工单。",
            ),
        ),
        en=Script(
            subjects=(
                "Can't log in to {system}",
                "Account locked out",
                "Password keeps being rejected",
                "Not receiving the login verification code",
            ),
            descriptions=(
                "This morning {system} said 'wrong user name or password'. I'm sure the password "
                "is right; after a few tries my account got locked. Please unlock it.",
                "I changed my phone number and no longer get the SMS code, so I can't log in. My "
                "new number ends in {phone_hint}.",
                "After logging in with {browser} the page just keeps spinning. Other browsers "
                "too. My colleagues can log in normally.",
            ),
            replies=(
                "Your account is unlocked. Please change your password after logging in – at "
                "least 12 characters with letters and digits.",
                "The phone number for codes has to be changed by you in the self-service portal. "
                "We've emailed you a one-time login link that is valid for 30 minutes.",
                "Please clear the cache and cookies of {browser}, or try a private window first.",
            ),
            follow_ups=(
                "Still can't log in after the unlock – now it says 'account disabled'.",
                "The link says it has expired. Could you send another one?",
                "The private window works, the normal one still doesn't.",
            ),
            notes=(
                "Disabled automatically by the 90-day password policy; re-enabled.",
                "SSO log shows a corrupted session token for this user; all sessions revoked.",
                "{count}th ticket like this this week – suggest a 'forgot password' hint on the "
                "login page.",
            ),
            resolutions=(
                "Your account is active again and you can log in. We recommend turning on "
                "two-step verification so you can recover it yourself next time.",
                "Sessions cleared and login works again. Reply here if it happens again.",
            ),
        ),
    ),
    Topic(
        key="network",
        team=SUPPORT,
        ticket_type=TicketType.fault,
        urgency=-1,
        tags=("network", "outage"),
        weight=6,
        zh=Script(
            subjects=(
                "{city}办公室网络故障，全员无法上网",
                "{floor}楼无线网络频繁掉线",
                "网络故障：访问{system}非常慢",
            ),
            descriptions=(
                "{city}办公室从 {time} 开始所有电脑都无法上网，有线和 Wi-Fi 都不行，"
                "影响大概 {count} 个人，请紧急处理！",
                "{floor}楼的 Wi-Fi 信号满格，但是每隔几分钟就断一次，开视频会议特别受影响。",
                "今天访问{system}非常慢，打开一个页面要一分多钟，其他网站正常。",
            ),
            replies=(
                "已收到，我们监控也看到{city}办公室出口线路中断，正在联系运营商，有进展会第一时间通知。",
                "我们查看了无线控制器，{floor}楼的 AP 信道干扰比较严重，今晚会调整信道和功率。",
                "请在命令行执行 ping 和 tracert 到 {system} 的地址，把结果截图发给我们。",
            ),
            follow_ups=(
                "现在可以上网了，但是时断时续。",
                "调整之后好多了，会议时没有再掉线。",
                "截图已附上，第 5 跳开始延迟很高。",
            ),
            notes=(
                "运营商故障单号 {case_no}，预计 2 小时内恢复。",
                "核心交换机 {port} 口的光模块告警，已更换备件。",
                "和上个月 {city} 的故障是同一条线路，建议申请第二条出口链路。",
            ),
            resolutions=(
                "运营商已修复线路，{city}办公室网络已恢复正常，感谢大家的耐心。",
                "已更换故障光模块，网络延迟恢复正常。",
            ),
        ),
        en=Script(
            subjects=(
                "{city} office network down – nobody can get online",
                "Wi-Fi on floor {floor} keeps dropping",
                "Network issue: {system} extremely slow",
            ),
            descriptions=(
                "Since {time} no computer in the {city} office can get online, neither cabled nor "
                "Wi-Fi. About {count} people affected – please treat as urgent!",
                "Full Wi-Fi signal on floor {floor}, but it drops every few minutes. Video calls "
                "are almost impossible.",
                "{system} takes over a minute to open a page today; other sites are fine.",
            ),
            replies=(
                "Confirmed – our monitoring shows the {city} uplink is down. We're on the phone "
                "with the carrier and will update you as soon as we know more.",
                "The wireless controller shows heavy channel interference on floor {floor}. We'll "
                "retune channels and power tonight.",
                "Could you run ping and tracert to the {system} address and send us a screenshot?",
            ),
            follow_ups=(
                "We're back online, but it comes and goes.",
                "Much better since the change, no more drops during calls.",
                "Screenshot attached – latency jumps from hop 5.",
            ),
            notes=(
                "Carrier case {case_no}, ETA 2 hours.",
                "SFP alarm on core switch port {port}; replaced with a spare.",
                "Same circuit as last month's {city} outage – propose a second uplink.",
            ),
            resolutions=(
                "The carrier repaired the line and the {city} office is back online. Thanks for "
                "your patience.",
                "Faulty SFP replaced and latency is back to normal.",
            ),
        ),
    ),
    Topic(
        key="email",
        team=SUPPORT,
        ticket_type=TicketType.fault,
        urgency=0,
        tags=("email", "outlook"),
        weight=6,
        zh=Script(
            subjects=(
                "Outlook 收不到外部邮件",
                "邮箱空间已满，无法发送邮件",
                "手机邮箱无法同步",
            ),
            descriptions=(
                "从昨天下午开始收不到客户发来的邮件，内部邮件正常。客户说发给我的邮件没有退信。",
                "Outlook 提示邮箱已满，发不出邮件，删除了一些还是不行，能不能扩容？",
                "手机上的邮箱 App 提示“无法验证账户”，电脑上是正常的。",
            ),
            replies=(
                "我们在邮件网关里查到这些邮件被判为垃圾邮件隔离了，已经放行，并把发件域名加入了白名单。",
                "您的邮箱配额是 {quota} GB，已使用 99%。我们已临时扩容到 {quota_new} GB，"
                "建议开启在线存档。",
                "手机邮箱需要使用应用专用密码，已发送设置说明到您的邮箱，请按步骤重新添加账户。",
            ),
            follow_ups=(
                "收到了，谢谢！以后这个客户的邮件还会被拦吗？",
                "扩容后可以发了，在线存档怎么设置？",
                "按说明操作后还是提示无法验证。",
            ),
            notes=(
                "垃圾邮件规则 {rule_no} 误判率偏高，已提交调整。",
                "该用户的邮箱里有 {count} 个超过 20MB 的附件，已建议归档。",
            ),
            resolutions=(
                "已将发件域名加入白名单，之后的邮件不会再被拦截。",
                "邮箱已扩容并开启在线存档，问题已解决。",
            ),
        ),
        en=Script(
            subjects=(
                "Outlook not receiving external mail",
                "Mailbox full, cannot send",
                "Phone mail app won't sync",
            ),
            descriptions=(
                "Since yesterday afternoon I'm not getting email from customers; internal mail "
                "works. The customer says nothing bounced.",
                "Outlook says my mailbox is full and I can't send. I deleted a lot, still full. "
                "Could you increase the quota?",
                "The mail app on my phone says 'cannot verify account'; the desktop works.",
            ),
            replies=(
                "The mail gateway had quarantined those messages as spam. We released them and "
                "added the sender's domain to the allow list.",
                "Your quota is {quota} GB and 99% used. We raised it to {quota_new} GB for now; "
                "online archiving would help long term.",
                "Phones need an app password. We've emailed you the steps – please remove and "
                "re-add the account.",
            ),
            follow_ups=(
                "Got them, thanks! Will this customer's mail be blocked again?",
                "I can send again. How do I set up online archiving?",
                "Followed the steps, still 'cannot verify'.",
            ),
            notes=(
                "Spam rule {rule_no} has too many false positives; change requested.",
                "{count} attachments over 20 MB in this mailbox; suggested archiving.",
            ),
            resolutions=(
                "The sender's domain is allow-listed, so their mail won't be held again.",
                "Quota raised and online archive enabled – solved.",
            ),
        ),
    ),
    Topic(
        key="software",
        team=SUPPORT,
        ticket_type=TicketType.request,
        urgency=1,
        tags=("software", "install"),
        weight=5,
        zh=Script(
            subjects=(
                "申请安装 {software}",
                "新员工入职，需要开通电脑和账号",
                "申请{system}的访问权限",
            ),
            descriptions=(
                "因工作需要，申请在我的电脑上安装 {software}，部门经理已经同意。电脑编号 {asset}。",
                "下周一有 {count} 位新同事入职（名单见附件），需要准备电脑、邮箱和{system}账号。",
                "我调到了新部门，需要开通{system}的只读权限，审批单号 {case_no}。",
            ),
            replies=(
                "已收到申请。{software} 需要正版授权，我们正在确认部门的授权数量，预计明天完成安装。",
                "好的，我们会在周五前准备好电脑和账号，入职当天上午 9 点由 IT 同事现场交付。",
                "权限已经开通，请重新登录{system}确认是否可以访问。",
            ),
            follow_ups=(
                "请问今天能装好吗？明天要用。",
                "名单有变动，其中一位推迟到下周三入职。",
                "可以看到了，但是没有导出按钮。",
            ),
            notes=(
                "{software} 授权还剩 {count} 个，够用。",
                "资产 {asset} 硬盘只剩 8GB，安装前先清理。",
            ),
            resolutions=(
                "{software} 已远程安装完成，激活正常。",
                "新员工的电脑和账号已全部准备好，交付清单已发到您的邮箱。",
            ),
        ),
        en=Script(
            subjects=(
                "Request: install {software}",
                "New joiners next week – laptops and accounts",
                "Access request for {system}",
            ),
            descriptions=(
                "I need {software} on my laptop for a project; my manager has approved it. "
                "Asset tag {asset}.",
                "{count} new colleagues start next Monday (list attached). They need laptops, "
                "mailboxes and {system} accounts.",
                "I moved to a new department and need read-only access to {system}. Approval "
                "reference {case_no}.",
            ),
            replies=(
                "Request received. {software} needs a licence; we're checking your department's "
                "licence count and expect to install it tomorrow.",
                "We'll have laptops and accounts ready by Friday; IT will hand them over at 9:00 "
                "on the first day.",
                "Access is granted – please log in to {system} again and check.",
            ),
            follow_ups=(
                "Any chance this is done today? I need it tomorrow.",
                "Change of plan: one person now starts next Wednesday.",
                "I can see the data, but there's no export button.",
            ),
            notes=(
                "{count} {software} licences left, enough.",
                "Asset {asset} has only 8 GB free – clean up before installing.",
            ),
            resolutions=(
                "{software} is installed remotely and activated.",
                "All laptops and accounts are ready; the hand-over list is in your inbox.",
            ),
        ),
    ),
    Topic(
        key="invoice",
        team=BILLING,
        ticket_type=TicketType.request,
        urgency=0,
        tags=("invoice", "发票"),
        weight=10,
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
                "收到的发票（号码 {invoice}）抬头少了“有限公司”四个字，财务不能报销，麻烦作废重开。",
                "订单 {order} 已经付款两周了，一直没有收到发票，麻烦查一下。",
                "在控制台点“下载发票”一直提示系统繁忙，试了好几次都不行。",
            ),
            replies=(
                "您好，开票申请已收到，我们会在 3 个工作日内开具并发送到您的邮箱，请注意查收。",
                "非常抱歉给您带来不便。原发票 {invoice} 已提交作废，新发票预计明天开出。",
                "我们查到订单 {order} 的发票已于上周开具，可能被邮箱拦截了，已重新发送到您的邮箱。",
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
                "您好，已核实订单 {order} 符合退款条件，退款 {amount} 将原路退回，预计 3-7 个工作日到账。",
                "非常抱歉，我们确认支付网关重复扣款，多扣的 {amount} 已发起退款，流水号 {case_no}。",
                "抱歉让您久等了。我们查到退款因银行信息不完整被退回，请提供开户行全称，我们会马上重新提交。",
            ),
            follow_ups=(
                "开户行是中国工商银行上海分行营业部。",
                "已经过了 7 个工作日，还是没有到账。",
                "退款收到了，谢谢。但希望以后不要再出现重复扣款。",
            ),
            notes=(
                "重复扣款是支付渠道回调超时导致的，已报给研发，缺陷号 {bug_no}。",
                "退款金额超过 5000 元，需要财务经理审批，已提交。",
                "客户是 VIP，优先处理，已电话致歉。",
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
                "VIP customer – prioritised, apologised by phone.",
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
                "您好，我们看到支付网关返回的是“发卡行拒绝”，建议联系发卡行确认是否开通了境外/网上支付。",
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
        zh=Script(
            subjects=(
                "咨询续费价格和折扣",
                "想增加 {count} 个用户席位，费用怎么算？",
            ),
            descriptions=(
                "我们的合同 {month} 到期，想了解一下续费三年有没有优惠，另外能否按季度付款？",
                "团队扩大了，需要再加 {count} 个席位，请问是按剩余合同期折算吗？",
            ),
            replies=(
                "您好，三年期续费可以享受 85 折，按季度付款也可以，报价单已发送到您的邮箱。",
                "新增席位按剩余合同期按天折算，{count} 个席位的费用约为 {amount}，正式报价稍后发您。",
            ),
            follow_ups=(
                "报价收到了，能否再申请一点折扣？",
                "好的，我们内部走一下审批流程。",
            ),
            notes=(
                "客户年度合同额较大，可申请特批 8 折，已找销售确认。",
            ),
            resolutions=(
                "报价和合同草稿已发送，如有其他问题欢迎随时联系。",
            ),
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
    Topic(
        key="report_export",
        team=SUCCESS,
        ticket_type=TicketType.inquiry,
        urgency=1,
        tags=("how-to", "reports"),
        weight=6,
        zh=Script(
            subjects=(
                "如何导出月度报表？",
                "报表里的数据和后台对不上",
                "能否定时把报表发到邮箱？",
            ),
            descriptions=(
                "请问在哪里可以把{month}的工单统计导出成 Excel？找了半天没找到按钮。",
                "{month}报表显示处理了 {count} 单，但是后台列表筛选出来的数量不一样，是哪里的问题？",
                "领导希望每周一早上自动收到上周的报表，系统支持吗？",
            ),
            replies=(
                "您好，在“报表 → 工单统计”页面右上角有“导出”按钮，可以选择 Excel 或 CSV 格式。"
                "操作截图已附上。",
                "报表默认按“解决时间”统计，列表筛选的是“创建时间”，两者口径不同，所以数量会有差异。",
                "支持的，在报表页面点击“订阅”，选择每周一 8:00，并填写收件人邮箱即可。",
            ),
            follow_ups=(
                "找到了，谢谢！导出的时间是北京时间吗？",
                "明白了，能不能在报表里也按创建时间统计？",
            ),
            notes=(
                "这个问题最近问得比较多，建议补充到知识库。",
                "已把“按创建时间统计”的需求记录到产品需求池，编号 {bug_no}。",
            ),
            resolutions=(
                "导出时间使用您个人设置中的时区（默认北京时间）。相关说明已更新到知识库。",
                "已为您配置好每周报表订阅，下周一开始生效。",
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
            ),
            notes=(
                "Asked often lately – worth a knowledge base article.",
                "Logged 'count by creation date' as feature request {bug_no}.",
            ),
            resolutions=(
                "Exports use the time zone in your profile. The knowledge base article is "
                "updated as well.",
                "Your weekly report subscription is set up and starts next Monday.",
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
            notes=(
                "客户处于上线第一个月，建议安排两次跟进回访。",
            ),
            resolutions=(
                "培训已完成，录屏和课件已发送，欢迎随时反馈问题。",
            ),
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
            notes=(
                "First month after go-live – plan two follow-up calls.",
            ),
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
                "默认限流是每个令牌每分钟 600 次，超出会返回 429 和 Retry-After 头。建议按头部等待后重试。",
                "可以使用 closeloop import 命令批量导入，支持 CSV 和 JSON，说明文档链接已发您。",
                "我们看到回调请求返回了 TLS 握手失败，请确认您的服务器证书链是否完整。",
            ),
            follow_ups=(
                "能否把我们的限额提高到每分钟 2000 次？",
                "证书链补全了，现在可以收到了。",
            ),
            notes=(
                "客户的同步脚本没有做退避，建议他们使用增量同步接口。",
            ),
            resolutions=(
                "已为您的令牌调整限额并提供了增量同步的示例代码，问题已解决。",
                "回调已恢复正常，投递记录可以在管理后台查看。",
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
            ),
            notes=(
                "Their sync script has no backoff; suggested the incremental sync endpoint.",
            ),
            resolutions=(
                "Limit raised for your token and sample code for incremental sync sent – solved.",
                "Callbacks are delivered again; the delivery log is in the admin console.",
            ),
        ),
    ),
)

# --- shared wording -----------------------------------------------------------------------

GREETINGS = {
    "zh_CN": ("{name}，您好：\n\n", "您好，\n\n", "{name}您好，\n\n"),
    "en": ("Hi {first},\n\n", "Hello {first},\n\n", "Dear {name},\n\n"),
}
SIGNATURES = {
    "zh_CN": ("\n\n祝好\n{agent}", "\n\n{agent} | 技术支持中心", "\n\n如有疑问请直接回复。\n{agent}"),
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

# --- fillers ------------------------------------------------------------------------------

_PRINTERS = (
    "HP LaserJet Pro M404dn",
    "Canon iR-ADV C5535",
    "Brother HL-L2350DW",
    "Epson WF-C5790",
    "联想 LJ2655DN",
    "Kyocera ECOSYS M2540dn",
)
_VPNS = ("GlobalProtect", "FortiClient", "Cisco AnyConnect", "EasyConnect")
_VPN_ERRORS = ("809", "691", "-6005", "SSL handshake failed", "0x80072746")
_SYSTEMS_ZH = ("金蝶 K/3", "用友 U8", "OA 系统", "CRM", "报销系统", "SAP")
_SYSTEMS_EN = ("SAP", "Salesforce", "the ERP", "the intranet", "Jira", "the expense system")
_BROWSERS = ("Chrome 131", "Edge", "Safari", "Firefox", "360 浏览器")
_CITIES_ZH = ("上海", "北京", "深圳", "杭州", "成都", "广州")
_CITIES_EN = ("Shanghai", "Beijing", "Singapore", "London", "Shenzhen", "Hong Kong")
_SOFTWARE = ("Visio", "AutoCAD LT", "Tableau", "Adobe Acrobat Pro", "PyCharm", "Xmind")


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def slot_values(rng: random.Random, *, created_month: int, company: str) -> dict[str, str]:
    """Fillers for one ticket: every name any template uses, drawn once so a thread agrees."""
    amount = rng.choice((680, 1280, 2380, 3280, 5600, 12800, 25600, 49800))
    month_names = (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    )
    return {
        "printer": rng.choice(_PRINTERS),
        "floor": str(rng.randint(2, 28)),
        "subnet": str(rng.randint(10, 90)),
        "host": str(rng.randint(1, 30)),
        "port": f"Gi1/0/{rng.randint(1, 48)}",
        "vpn": rng.choice(_VPNS),
        "vpn_error": rng.choice(_VPN_ERRORS),
        "system": rng.choice(_SYSTEMS_ZH),
        "system_en": rng.choice(_SYSTEMS_EN),
        "browser": rng.choice(_BROWSERS),
        "city": rng.choice(_CITIES_ZH),
        "city_en": rng.choice(_CITIES_EN),
        "time": f"{rng.randint(7, 11):02d}:{rng.choice(('05', '20', '35', '50'))}",
        "days": str(rng.randint(3, 14)),
        "count": str(rng.randint(3, 25)),
        "phone_hint": _digits(rng, 4),
        "quota": "50",
        "quota_new": "100",
        "rule_no": f"SP-{_digits(rng, 3)}",
        "case_no": f"{rng.choice(('CT', 'INC', 'REF'))}{_digits(rng, 8)}",
        "bug_no": f"BUG-{_digits(rng, 4)}",
        "software": rng.choice(_SOFTWARE),
        "asset": f"PC-{_digits(rng, 5)}",
        "order": f"SO{_digits(rng, 10)}",
        "invoice": _digits(rng, 8),
        "tax_id": f"91310{_digits(rng, 4)}MA{_digits(rng, 7)}",
        "amount": f"¥{amount:,}.00",
        "amount_en": f"USD {amount // 7:,}.00",
        "month": f"{created_month}月",
        "month_en": month_names[created_month - 1],
        "date": f"{created_month}月{rng.randint(1, 28)}日",
        "company": company,
    }


def localised_slots(values: dict[str, str], locale: str) -> dict[str, str]:
    """The same fillers, with the English variants under the plain names for English threads."""
    if locale == "zh_CN":
        return values
    english = dict(values)
    english["system"] = values["system_en"]
    english["city"] = values["city_en"]
    english["date"] = values["month_en"] + " " + values["host"]
    return english


def fill(template: str, values: dict[str, str]) -> str:
    return template.format_map(values)
