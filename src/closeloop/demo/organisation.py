"""Who is in the demo organisation: teams, agents, skills, companies and customers (pure data).

Customer and company addresses use the reserved ``.example`` top-level domain (RFC 2606), so
a demo that is later connected to a real mail server never writes to a real person.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

from closeloop.accounts.domain import IdentityKind, Role
from closeloop.demo.content import BILLING, SUCCESS, SUPPORT

DEMO_PASSWORD = "closeloop-demo"  # noqa: S105 (printed for the demo logins on purpose)
AGENT_DOMAIN = "demo.closeloop.dev"


@dataclass(frozen=True, slots=True)
class TeamSpec:
    key: str
    name: str
    description: str
    email: str


@dataclass(frozen=True, slots=True)
class AgentSpec:
    name: str
    email: str
    role: Role
    locale: str
    teams: tuple[str, ...] = ()
    leads: str | None = None
    is_senior: bool = False
    skills: dict[str, int] = field(default_factory=dict)

    @property
    def speaks_english(self) -> bool:
        return self.locale == "en" or self.skills.get("english", 0) >= 3


@dataclass(frozen=True, slots=True)
class SkillSpec:
    key: str
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class CompanySpec:
    name: str
    domain: str
    tier: str
    english: bool
    notes: str = ""


@dataclass(frozen=True, slots=True)
class CustomerSpec:
    name: str
    first_name: str
    locale: str
    identities: tuple[tuple[IdentityKind, str], ...]
    company: int | None
    tier: str
    is_company_admin: bool

    def has(self, kind: IdentityKind) -> bool:
        return any(k is kind for k, _value in self.identities)


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec(
        SUPPORT,
        "技术支持 Technical Support",
        "电脑、打印机、网络、VPN、账号登录 / PCs, printers, network, VPN, sign-in",
        f"support@{AGENT_DOMAIN}",
    ),
    TeamSpec(
        BILLING,
        "账务 Billing",
        "发票、退款、付款、报价 / Invoices, refunds, payments, quotes",
        f"billing@{AGENT_DOMAIN}",
    ),
    TeamSpec(
        SUCCESS,
        "客户成功 Customer Success",
        "培训、使用咨询、投诉升级、API 集成 / Training, how-to, escalations, API integration",
        f"success@{AGENT_DOMAIN}",
    ),
)

SKILLS: tuple[SkillSpec, ...] = (
    SkillSpec("printers", "打印机与外设 Printers & peripherals", "Printers, scanners, docks"),
    SkillSpec("network", "网络与 VPN Network & VPN", "LAN, Wi-Fi, VPN clients and gateways"),
    SkillSpec("accounts", "账号与权限 Accounts & access", "SSO, AD, passwords, access rights"),
    SkillSpec("invoicing", "发票与税务 Invoicing & tax", "增值税专用发票, credit notes, VAT"),
    SkillSpec("payments", "退款与支付 Refunds & payments", "Refunds, duplicate charges, wires"),
    SkillSpec("english", "英语服务 English-language support", "Answers customers in English"),
    SkillSpec("training", "产品培训 Product training", "Onboarding and admin training"),
)

AGENTS: tuple[AgentSpec, ...] = (
    AgentSpec("王芳", f"admin@{AGENT_DOMAIN}", Role.admin, "zh_CN", skills={"english": 3}),
    AgentSpec(
        "Emily Chen",
        f"supervisor@{AGENT_DOMAIN}",
        Role.supervisor,
        "en",
        is_senior=True,
        skills={"english": 5, "training": 4},
    ),
    AgentSpec(
        "张伟",
        f"zhang.wei@{AGENT_DOMAIN}",
        Role.agent,
        "zh_CN",
        teams=(SUPPORT,),
        leads=SUPPORT,
        is_senior=True,
        skills={"network": 5, "accounts": 4, "printers": 3},
    ),
    AgentSpec(
        "李娜",
        f"li.na@{AGENT_DOMAIN}",
        Role.agent,
        "zh_CN",
        teams=(BILLING,),
        leads=BILLING,
        is_senior=True,
        skills={"invoicing": 5, "payments": 4, "english": 2},
    ),
    AgentSpec(
        "Oliver Smith",
        f"oliver.smith@{AGENT_DOMAIN}",
        Role.agent,
        "en",
        teams=(SUCCESS, SUPPORT),
        leads=SUCCESS,
        is_senior=True,
        skills={"english": 5, "training": 5, "accounts": 2},
    ),
    AgentSpec(
        "刘洋",
        f"liu.yang@{AGENT_DOMAIN}",
        Role.agent,
        "zh_CN",
        teams=(SUPPORT,),
        skills={"printers": 4, "network": 3, "accounts": 3},
    ),
    AgentSpec(
        "陈静",
        f"chen.jing@{AGENT_DOMAIN}",
        Role.agent,
        "zh_CN",
        teams=(BILLING, SUCCESS),
        skills={"invoicing": 3, "payments": 3, "training": 2, "english": 3},
    ),
    AgentSpec(
        "Sophie Martin",
        f"sophie.martin@{AGENT_DOMAIN}",
        Role.agent,
        "en",
        teams=(SUPPORT, BILLING),
        skills={"english": 5, "network": 2, "payments": 2},
    ),
)

COMPANIES: tuple[CompanySpec, ...] = (
    CompanySpec(
        "上海云杉科技有限公司", "yunshan-tech.example", "vip", False, "年框客户，专属服务群"
    ),
    CompanySpec("北京华信物流有限公司", "huaxin-logistics.example", "standard", False),
    CompanySpec("深圳蓝海电子有限公司", "lanhai-elec.example", "standard", False),
    CompanySpec("杭州青禾教育科技有限公司", "qinghe-edu.example", "standard", False),
    CompanySpec(
        "成都天府医疗器械有限公司", "tianfu-med.example", "vip", False, "医疗行业，P1 需电话通知"
    ),
    CompanySpec("广州越秀餐饮管理有限公司", "yuexiu-dining.example", "standard", False),
    CompanySpec("Northwind Trading Ltd", "northwind-trading.example", "standard", True),
    CompanySpec("Acme Analytics Inc.", "acme-analytics.example", "vip", True, "Enterprise plan"),
    CompanySpec("Brightside Hotels", "brightside-hotels.example", "standard", True),
    CompanySpec("Harbour Freight Pte Ltd", "harbour-freight.example", "standard", True),
)

_SURNAMES = (
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
)
_GIVEN_NAMES = (
    ("磊", "lei"),
    ("静", "jing"),
    ("敏", "min"),
    ("强", "qiang"),
    ("丽", "li"),
    ("军", "jun"),
    ("晓明", "xiaoming"),
    ("婷婷", "tingting"),
    ("建国", "jianguo"),
    ("思远", "siyuan"),
    ("雨涵", "yuhan"),
    ("浩然", "haoran"),
    ("子涵", "zihan"),
    ("欣怡", "xinyi"),
    ("志强", "zhiqiang"),
    ("海燕", "haiyan"),
    ("文博", "wenbo"),
    ("佳琪", "jiaqi"),
)
_FIRST_NAMES = (
    "James",
    "Olivia",
    "Daniel",
    "Emma",
    "Michael",
    "Charlotte",
    "Thomas",
    "Amelia",
    "William",
    "Grace",
    "Henry",
    "Chloe",
    "Jack",
    "Isabella",
)
_LAST_NAMES = (
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Davies",
    "Evans",
    "Walker",
    "Wright",
    "Robinson",
    "Clarke",
    "Hughes",
    "Tan",
    "Lim",
)
_PERSONAL_DOMAINS = ("mail.example", "inbox.example", "example.com", "example.net")
_MOBILE_PREFIXES = ("138", "139", "136", "150", "158", "186", "177", "135")
_OPENID_ALPHABET = string.ascii_letters + string.digits + "-_"

CUSTOMER_COUNT = 60
# Customers per company, in the order of COMPANIES; the rest have no company.
_COMPANY_SIZES = (7, 5, 5, 4, 5, 4, 5, 6, 4, 3)
_WECHAT_ONLY = 4


def build_customers(rng: random.Random) -> list[CustomerSpec]:
    """60 customers, deterministic for a given ``rng`` state."""
    used_names: set[str] = set()
    used_locals: set[str] = set()
    customers: list[CustomerSpec] = []

    def chinese_name() -> tuple[str, str, str]:
        while True:
            (surname, surname_py), (given, given_py) = (
                rng.choice(_SURNAMES),
                rng.choice(_GIVEN_NAMES),
            )
            if surname + given not in used_names:
                used_names.add(surname + given)
                return surname + given, surname + given, f"{given_py}.{surname_py}"

    def english_name() -> tuple[str, str, str]:
        while True:
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            if f"{first} {last}" not in used_names:
                used_names.add(f"{first} {last}")
                return f"{first} {last}", first, f"{first}.{last}".lower()

    def local_part(base: str) -> str:
        candidate = base
        while candidate in used_locals:
            candidate = f"{base}{rng.randint(2, 99)}"
        used_locals.add(candidate)
        return candidate

    def phone(english: bool) -> str:
        if english:
            # Ofcom's range reserved for drama: 020 7946 0000–0999.
            return f"+44 20 7946 0{rng.randint(0, 999):03d}"
        prefix = rng.choice(_MOBILE_PREFIXES)
        return f"+86 {prefix} {rng.randint(1000, 9999)} {rng.randint(0, 9999):04d}"

    def openid() -> str:
        return "oDemo" + "".join(rng.choice(_OPENID_ALPHABET) for _ in range(23))

    slots: list[int | None] = [i for i, size in enumerate(_COMPANY_SIZES) for _ in range(size)]
    slots += [None] * (CUSTOMER_COUNT - len(slots))
    admins_given: set[int] = set()
    wechat_only_left = _WECHAT_ONLY
    for company_index in slots:
        company = COMPANIES[company_index] if company_index is not None else None
        english = rng.random() < (0.8 if company and company.english else 0.15)
        name, first, base = english_name() if english else chinese_name()
        locale = "en" if english else "zh_CN"
        identities: list[tuple[IdentityKind, str]] = []
        wechat_only = company is None and not english and wechat_only_left > 0
        if wechat_only:
            wechat_only_left -= 1
            identities.append((IdentityKind.wechat_openid, openid()))
            identities.append((IdentityKind.phone, phone(english=False)))
        else:
            domain = company.domain if company else rng.choice(_PERSONAL_DOMAINS)
            identities.append((IdentityKind.email, f"{local_part(base)}@{domain}"))
            if rng.random() < 0.6:
                identities.append((IdentityKind.phone, phone(english)))
            if not english and rng.random() < 0.45:
                identities.append((IdentityKind.wechat_openid, openid()))
        is_admin = (
            company_index is not None
            and company_index not in admins_given
            and company_index % 3 == 0
        )
        if is_admin and company_index is not None:
            admins_given.add(company_index)
        tier = "vip" if (company and company.tier == "vip") or rng.random() < 0.04 else "standard"
        customers.append(
            CustomerSpec(
                name=name,
                first_name=first,
                locale=locale,
                identities=tuple(identities),
                company=company_index,
                tier=tier,
                is_company_admin=is_admin,
            )
        )
    return customers
