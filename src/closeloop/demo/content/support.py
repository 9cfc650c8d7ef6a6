"""Technical support topics: printers, VPN, logins, network, mail, software."""

from __future__ import annotations

from closeloop.demo.content.topic import SUPPORT, Scenario, Script, Topic
from closeloop.tickets.domain import TicketType

TOPICS: tuple[Topic, ...] = (
    Topic(
        key="printer",
        team=SUPPORT,
        ticket_type=TicketType.fault,
        urgency=0,
        tags=("printer", "hardware"),
        weight=9,
        scenarios=(
            Scenario((0,), 0, (0,), (0, 1), (0,)),
            Scenario((1, 2), 1, (1,), (1, 2), (1,)),
            Scenario((3,), 2, (2,), (1, 2), (1,)),
        ),
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
                "panel (Settings → Network → Wired) and "
                "send us a photo of the IP address it shows?",
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
        scenarios=(
            Scenario((0, 1), 0, (0, 1), (0, 1), (0,)),
            Scenario((2,), 1, (1,), (1,), (1,)),
            Scenario((1,), 2, (2,), (2, 0), (1,)),
        ),
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
                "您好，错误 {vpn_error} "
                "一般是证书或时间不同步导致的。麻烦确认一下电脑时间是否准确，"
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
        scenarios=(
            Scenario((0, 1, 2), 0, (0,), (0,), (0,)),
            Scenario((3,), 1, (1,), (1,), (0,)),
            Scenario((0,), 2, (2,), (2,), (1,)),
        ),
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
                "已为您解锁账号。为了安全，请在登录后修改密码，"
                "新密码需要至少 12 位并包含数字和字母。",
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
        scenarios=(
            Scenario((0,), 0, (0,), (0,), (0,)),
            Scenario((1,), 1, (1,), (1,), (2,)),
            Scenario((2,), 2, (2,), (2,), (1,)),
        ),
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
                "已收到，我们监控也看到{city}办公室出口线路中断，"
                "正在联系运营商，有进展会第一时间通知。",
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
                "和上个月{city}的故障是同一条线路，建议申请第二条出口链路。",
            ),
            resolutions=(
                "运营商已修复线路，{city}办公室网络已恢复正常，感谢大家的耐心。",
                "已更换故障光模块，网络延迟恢复正常。",
                "已调整{floor}楼的无线信道和发射功率，观察两天没有再掉线。",
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
                "We retuned the Wi-Fi channels and power on "
                "floor {floor}; no drops in two days of monitoring.",
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
        scenarios=(
            Scenario((0,), 0, (0,), (0,), (0,)),
            Scenario((1,), 1, (1,), (1,), (1,)),
            Scenario((2,), 2, (2,), (2,), (2,)),
        ),
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
                "我们在邮件网关里查到这些邮件被判为垃圾邮件隔离了，"
                "已经放行，并把发件域名加入了白名单。",
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
                "已为您生成应用专用密码并重新配置了手机邮箱，同步已恢复正常。",
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
                "We set up an app password and re-added "
                "the account on your phone; mail syncs again.",
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
        scenarios=(
            Scenario((0,), 0, (0,), (0,), (0,)),
            Scenario((1,), 1, (1,), (1,), (1,)),
            Scenario((2,), 2, (2,), (2,), (2,)),
        ),
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
                "已收到申请。{software} 需要正版授权，"
                "我们正在确认部门的授权数量，预计明天完成安装。",
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
                "导出权限也已一并开通，{system}的访问已全部配置完成。",
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
                "Export rights are added as well; your {system} access is complete.",
            ),
        ),
    ),
)
