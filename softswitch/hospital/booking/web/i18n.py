"""Chinese and English for the pages: English text is the key, Chinese its translation.

A browser set to Chinese gets Chinese; patients switch with the 中文 / English link
(remembered in a cookie). Text without a
translation (a staff member's free-form refusal, say) is shown in English rather than not at
all. The service's refusals are translated by their stable `code`, never by parsing text.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from fastapi import Request

__all__ = ["LANGUAGES", "LANG_COOKIE", "Translate", "day_label", "pick_language", "translator"]

LANGUAGES = ("en", "zh")
LANG_COOKIE = "ss_lang"
Translate = Callable[[str], str]

_WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

# BookingError.code -> what the page says in Chinese.
CODES_ZH = {
    "card_not_found": "卡号或密码错误。",
    "wrong_pin": "卡号或密码错误。",
    "card_locked": "该卡密码错误次数过多，请稍后再试或到挂号窗口办理。",
    "insufficient_balance": "卡内余额不足以支付该费用。",
    "slot_full": "该时段已约满。",
    "already_booked": "您已预约过该时段。",
    "not_found": "该选项暂不可用。",
    "capacity_below_booked": "容量不能低于已预约人数。",
}

ZH = {
    # page chrome and titles
    "Hospital appointments": "医院预约挂号",
    "Appointments": "预约挂号",
    "Book an appointment": "预约挂号",
    "My appointments": "我的预约",
    "Log in": "登录",
    "Log out": "退出",
    "Card number": "就诊卡号",
    "PIN": "密码",
    "Log in with your visit card number and PIN, the same as on the phone line.":
        "请输入就诊卡号和密码（与电话预约相同）。",
    "Card": "卡号",
    "Balance": "余额",
    "Ticket": "挂号单",
    "Date": "日期",
    "Half-day": "时段",
    "Type": "类别",
    "Department": "科室",
    "Expert / exam": "专家／检查",
    "Fee": "费用",
    "No appointments yet.": "暂无预约。",
    "Morning": "上午",
    "Afternoon": "下午",
    "General clinic": "普通门诊",
    "Expert clinic": "专家门诊",
    "Examination": "检查",
    "Day": "日期",
    "Today": "今天",
    "Tomorrow": "明天",
    "Show sessions": "查看号源",
    "Expert": "专家",
    "Places left": "剩余号数",
    "Choose": "选择",
    "Full": "已满",
    "No sessions on this day. Please choose another day.": "当天没有号源，请选择其他日期。",
    "Confirm your booking": "确认预约",
    "Your balance": "您的余额",
    "Book and pay": "确认预约并支付",
    "Choose again": "重新选择",
    "Booked": "预约成功",
    "New balance": "当前余额",
    "Fee paid": "已付费用",
    "Print your ticket at any self-service kiosk with your card and PIN.":
        "请凭就诊卡和密码在自助机打印挂号单。",
    # kiosk
    "Kiosk": "自助机",
    "Print your appointment ticket": "打印挂号单",
    "Enter your visit card number and PIN.": "请输入就诊卡号和密码。",
    "Continue": "继续",
    "Print": "打印",
    "Print ticket": "打印挂号单",
    "Finish": "结束",
    "Back": "返回",
    "Your tickets": "您的挂号单",
    "You have no bookings for today or later.": "您今天及以后没有预约。",
    "Use the kiosk's print key to print this ticket.": "请按自助机的打印键打印。",
    # messages of the pages themselves
    "Please log in again.": "请重新登录。",
    "Your session has ended; please log in again.": "登录已过期，请重新登录。",
    "No such ticket on this card.": "该卡没有这张挂号单。",
    "That session is no longer offered; please choose again.": "该号源已不可预约，请重新选择。",
    "This form has expired; please try again.": "页面已过期，请重试。",
    "Card number must contain digits only": "就诊卡号只能是数字",
    "PIN must contain digits only": "密码只能是数字",
    "Card number is missing": "请输入就诊卡号",
    "PIN is missing": "请输入密码",
    "Too many wrong tries from this device. Please wait 15 minutes or ask at the "
    "registration desk.": "本设备输入错误次数过多，请15分钟后再试或到挂号窗口办理。",
}


def pick_language(request: Request, default: str) -> str:
    """`?lang=` (the switch link) wins, then the cookie, then the browser's first choice
    (Accept-Language), then the hospital's default."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGUAGES:
            return value
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    if first.startswith("zh"):
        return "zh"
    if first.startswith("en"):
        return "en"
    return default


def translator(language: str) -> Translate:
    if language == "zh":
        return lambda text: ZH.get(text, text)
    return lambda text: text


def day_label(language: str, day: datetime.date) -> str:
    if language == "zh":
        return f"{day.month}月{day.day}日（{_WEEKDAYS_ZH[day.weekday()]}）"
    return f"{day.isoformat()} ({day.strftime('%a')})"
