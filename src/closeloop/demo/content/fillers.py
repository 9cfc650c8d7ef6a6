"""Fillers that vary the texts: printer models, invoice numbers, amounts…"""

from __future__ import annotations

import random
import string

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
