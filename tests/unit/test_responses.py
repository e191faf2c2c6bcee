"""Everything the assistant says is a domain response: each one renders, and the actions fill each one completely.

Rendering uses Rasa's own template filling (TemplatedNaturalLanguageGenerator), as the Rasa server does when an action
names a response. tests/unit/rendering.py renders an action's messages the same way for the action tests.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.nlg.interpolator import interpolate_text

from actions.wording import fill
from bot.settings import ROOT
from tests.unit.rendering import NOT_VALUES, UNFILLED, texts_of, variables

ACTIONS = sorted((ROOT / "actions").rglob("*.py"))

# One plausible value for every variable a response uses. A new variable needs a sample here.
SAMPLES: dict[str, Any] = {
    "amount": 9600, "answer": "按月申报的，一般应在次月15日前完成申报缴纳。", "asked": "杭州、线上",
    "citation": "国家税务总局《关于……的通知》（税总发〔2020〕14号）", "shown": "全国、线上", "year": 2020,
    "amounts": "本科每月800元、硕士每月1200元", "application": "申请编号：ZF2026000001",
    "application_no": "ZF2026000001", "applications": "申请编号：ZF2026000001", "attempts_left": 2, "capacity": 300,
    "cargo_status": "正常", "choices": "“申请租房补贴”、“了解租房补贴政策”", "city": "杭州",
    "company": "杭州示例科技有限公司", "conditions": "1. 首次在本市就业\n2. 本市无自有住房", "count": 2,
    "country": "新加坡", "day": 1, "days": 7, "degree": "本科", "earliest": 2016,
    "industry": "互联网", "major": "计算机科学与技术", "month": 2, "end_date": "2026-12-04",
    "english_name": "Singapore", "entry_status": "允许入境", "explain": "请输入11位大陆手机号码，例如：13912345678",
    "fairs": "1. 杭州数字经济人才专场招聘会", "first": 1, "flights": "航班正常运行", "form": "租房补贴申请",
    "given_name": "新加破", "graduation_year": "2026", "headcount": 5, "hotline": "12345", "hours": "7:00-24:00",
    "job_fair_id": "JF0005", "last": 5, "latest": 2031, "length": 16, "materials": "无需提交材料",
    "monthly_amount": 800, "months": 12, "name_masked": "陈*", "next_step": "如有疑问请咨询12345",
    "notes": "请留意通行证签注有效期。", "number": 2, "paid": "，发放时间：2026-11-26 17:30",
    "paid_at": "2026-11-26 17:30", "passenger_status": "暂停", "payout_account_masked": "6222 **** **** 4567",
    "period": "2026", "person_name": "刘洋", "phone_masked": "138****0004", "port": "深圳罗湖口岸",
    "ports": "· 瑞丽口岸（德宏）：暂停", "positions": "1. 前端开发工程师｜杭州示例科技有限公司",
    "quarantine": "无需隔离", "reason": "验证码已过期。", "reasons": "1. 本市有自有住房", "reg_degree": "本科",
    "reg_major": "计算机科学与技术", "registered": 120, "registration": "报名编号：BM2026000001",
    "registration_no": "BM2026000001", "registrations": "报名编号：BM2026000001", "salary": "10-15K",
    "school": "浙江大学", "seats": "，已报120/300人", "service": "租房补贴服务", "source": "示例数据",
    "start_date": "2026-12-01", "status": "报名中", "status_text": "已发放", "test_requirement": "无需核酸检测",
    "title": "杭州数字经济人才专场招聘会", "total": 12, "total_amount": 9600, "updated_at": "2026-11-20",
    "venue": "杭州国际博览中心", "visa_status": "中国公民持普通护照 30 天免签", "wanted": "查询招聘会",
    "when": "2026-12-01", "where": "杭州",
    # health code
    "advice": "今日打卡正常，感谢您的配合。", "appeal_no": "FH20261130000001", "card": "林*的健康码：黄码",
    "colour_text": "黄码", "contact": "否", "date": "2026-11-30", "earliest_green_date": "2026-12-01",
    "expected_reply": "我们将在1个工作日内完成复核。", "how_to_turn_green": "请您每天进行健康打卡。",
    "key_area": "是", "no_smartphone": "健康码不是唯一的通行凭证。", "progress": "\n打卡进度：已连续打卡 5/7 天",
    "streak_text": "已连续打卡 5/7 天", "submitted_at": "2026-11-30 10:00", "symptoms": "咳嗽",
    "temperature": "36.5", "value": "45", "what_to_do": "请您居家隔离观察7天。",
    # work resumption
    "commitment_text": "本企业承诺：所填信息真实、准确。", "credit_code": "91330110MA2K8L6R2R",
    "earliest_date": "2026年12月4日（星期五）", "filed_by": "（办理人：王**）", "filed_on": "2026年12月1日",
    "filing": "备案编号：FG202612010001", "filing_no": "FG202612010001", "filings": "备案编号：FG202612010001",
    "isolation_rooms": 2, "key_area_staff": 3, "largest": 3650, "min_days": 3, "note": "",
    "planned_date": "2026年12月7日", "returning_staff": 120, "review_deadline": "2026年12月3日",
    "review_level": "区县级企业复工专班", "role_text": "法定代表人", "rooms_needed": 2, "said": "杭州绿源食品公司",
    "staff_per_room": 100, "supplies_days": 5, "working_days": 2,
    # vehicle transfer
    "address": "青岛市李沧区示例路 100 号（示例地址）", "cities": "青岛、济南、杭州、广州、成都",
    "description": "小型汽车，大众牌轿车（示例）", "destination_city": "青岛",
    "destination_office": "青岛市公安局交通警察支队车辆管理所", "due": "2026年12月3日", "limit": "（时限2日）",
    "message": "该车有2条交通违法记录尚未处理，需要先处理完毕才能转出。", "reason_name": "未处理的违法记录",
    "origin_city": "南宁", "origin_office": "南宁市公安局交通警察支队车辆管理所",
    "owner_step": "请您携带本人身份证，驾驶该车到青岛市公安局交通警察支队车辆管理所查验一次即可，无需回南宁验车。",
    "paper_file": "纸质档案留存在南宁市公安局交通警察支队车辆管理所，无需您携带或邮寄纸质档案。", "plate": "桂A12345",
    "plate_number": "桂A12345", "progress_text": "您的申请已提交，南宁市公安局交通警察支队车辆管理所正在转递电子档案。",
    "stage_name": "转出地车管所转递电子档案", "stages": "1. 已提交申请：已完成（2026年12月1日）",
    "submitted_on": "2026年12月1日", "vehicle": "桂A12345（小型汽车，大众牌轿车（示例））",
    # 好差评
    "level": "满意", "most": 500,
    # progress notifications (the back end's sentence comes in {detail}, without its final full stop)
    "reference": "ZF202612345678", "detail": "9600元已发放至您的账户6222 **** **** 4567",
    # entry/exit information in English (docs/english.md)
    "entry_status_en": "Entry allowed", "test_requirement_en": "No test required",
    "visa_status_en": "Chinese citizens with ordinary passports may stay 30 days without a visa",
    "flights_en": "Flights operate normally", "notes_en": "Submit the SG Arrival Card within 3 days before arrival.",
    "source_en": "Compiled from notices of the port authorities (sample data)",
    "port_en": "Shenzhen Luohu Port (Lo Wu)", "city_en": "Shenzhen", "passenger_status_en": "Open to passengers",
    "cargo_status_en": "No cargo", "hours_en": "06:30-24:00",
    # e-tax guidance
    "allowed": "增值税、附加税费、消费税、个人所得税、企业所得税", "amount_due": "2,446.80元",
    "approval_note": "您的延期缴纳税款申请已受理，须经省级税务机关批准后方可生效。",
    "basis": "《中华人民共和国税收征收管理法》第三十二条",
    "deadline_status": "\n今天是2026年12月1日，距离申报期限还有14天，请尽早办理。", "decide_by": "2026年12月21日",
    "deferral": "申请编号：YQ202612010001", "deferral_no": "YQ202612010001", "due_date": "2026年12月15日（星期二）",
    "estimate": "（按每月30天估算）",
    "explanation": "2020年10月申报2020年9月的增值税，申报纳税期限为2020年10月23日（星期五）。",
    "formula": "滞纳金 = 欠缴税款 × 万分之五（0.05%）× 滞纳天数 = 10,000.00元 × 0.05% × 10天 = 50.00元",
    "how_to_file": "通过电子税务局网上申报：\n1. 登录电子税务局", "items": "\n\n· 2026年11月 增值税：未申报",
    "overdue": "\n另有2项税款已过缴纳期限", "overdue_days": 39, "period_text": "2026年11月", "rate_percent": "0.05%",
    "rate_text": "万分之五", "requested_until": "2027年2月15日",
    "rule": "按月申报的税款，应在次月1日至15日内申报缴纳。", "steps": "1. 登录电子税务局\n2. 申报",
    "summary": "您有2项未申报。", "surcharge": "46.80元", "tax": "增值税", "tax_amount": "2,400.00元",
    "tax_office": "国家税务总局杭州市西湖区税务局（示例）", "taxpayer": "企业名称：杭州示例科技有限公司",
    "taxpayer_kind_text": "小规模纳税人", "tips": "请在期限最后一天之前留出时间办理。", "today": "2026年12月1日",
    "vat_cycle_text": "按月申报",
    # courts
    "agreement": "一、被告于2026年12月15日前退还原告货款人民币5,999元。", "case_number": "(2020)浙0106民初1234号",
    "cases": "案号：(2020)浙0106民初1234号\n法院：杭州市西湖区人民法院", "cause": "房屋租赁合同纠纷",
    "court": "杭州市西湖区人民法院", "decision": "在线（视频）参加", "hearing_name": "庭审",
    "hearings": "1. 杭州市西湖区人民法院 (2020)浙0106民初1234号 开庭", "how_it_works": "通过移动微法院视频参加庭审。",
    "identity_recheck": "开庭前30分钟请完成人脸识别。", "joining_instructions": "打开微信小程序“移动微法院”进入庭审。",
    "mediations": "(2020)浙0192民初567号（杭州互联网法院），第1版", "mode": "待您确认", "next_date": "",
    "organ": "杭州市西湖区人民法院", "parties": "· 原告 陈*：已签署", "party": "陈*", "place": "第三法庭",
    "role": "原告", "signed_at": "2026年11月30日（星期一）10:00", "subject": "拟不起诉决定的公开听证",
    "time": "2026年12月7日（星期一）10:00", "version": 1,
}


# -- the domain's responses ----------------------------------------------------------------------------------------


def all_variations(domain: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, variations in domain["responses"].items():
        for variation in variations:
            yield name, variation


def test_every_response_renders_with_its_values(domain: dict[str, Any]) -> None:
    """Each variation (and channel variant) of each response, filled by Rasa: nothing left unfilled, nothing empty."""
    problems = []
    for name, variation in all_variations(domain):
        needed = variables([variation])
        if needed - SAMPLES.keys():
            problems.append(f"{name}: no sample value for {sorted(needed - SAMPLES.keys())} (add one to SAMPLES)")
            continue
        # Slots that a condition names take the condition's value, so that this very variation is chosen.
        slots = {c["name"]: c["value"] for c in variation.get("condition") or []}
        nlg = TemplatedNaturalLanguageGenerator({name: [variation]})
        values = {key: SAMPLES[key] for key in needed}
        rendered = nlg.generate_from_slots(name, slots, variation.get("channel") or "rest", **values)
        if not rendered or not (rendered.get("text") or "").strip():
            problems.append(f"{name}: renders no text")
            continue
        for text in texts_of(rendered):
            if UNFILLED.search(text):
                problems.append(f"{name}: left unfilled in {text!r}")
    assert not problems, "\n".join(problems)


def test_parts_are_filled_exactly_as_rasa_fills_responses(domain: dict[str, Any]) -> None:
    """The actions fill parts of messages themselves (actions/wording.py): the result must be Rasa's."""
    for _, variation in all_variations(domain):
        template = variation.get("text") or ""
        values = {key: SAMPLES[key] for key in variables([variation]) if key in SAMPLES}
        assert fill(template, values) == interpolate_text(template, values)


# -- what the actions name and pass --------------------------------------------------------------------------------


class Site:
    """One place in actions/ that names a response, with the values given there."""

    def __init__(self, path: Path, node: ast.AST, names: list[str], passed: set[str] | None, from_slots: bool):
        self.where = f"{path.name}:{node.lineno}"
        self.names = names
        self.passed = passed  # None: given as **values, not known here
        self.from_slots = from_slots  # a whole message: Rasa also fills in the tracker's slots


def literals(node: ast.AST | None) -> list[str]:
    """utter_… names in a response argument: a literal, or the literals of `a if … else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("utter_"):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return literals(node.body) + literals(node.orelse)
    return []


def argument(call: ast.Call, position: int, keyword: str) -> ast.AST | None:
    found = next((k.value for k in call.keywords if k.arg == keyword), None)
    return found if found is not None else (call.args[position] if len(call.args) > position else None)


def keywords(call: ast.Call) -> set[str] | None:
    if any(k.arg is None for k in call.keywords):
        return None
    return {k.arg for k in call.keywords if k.arg not in NOT_VALUES}


def site_of(path: Path, call: ast.Call) -> Site | None:
    func = call.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if called == "utter_message":
        return Site(path, call, literals(argument(call, 99, "response")), keywords(call), True)
    if called == "part":  # Wording.part(name, **values)
        return Site(path, call, literals(argument(call, 0, "name")), keywords(call), False)
    if called == "Invalid":  # Invalid(response, {values})
        values = argument(call, 1, "values")
        keys = values.keys if isinstance(values, ast.Dict) else []
        passed = {k.value for k in keys if isinstance(k, ast.Constant)}
        return Site(path, call, literals(argument(call, 0, "response")), passed, False)
    if called == "SlotSpec":  # SlotSpec(validator, explain, …): the explanation takes no values
        return Site(path, call, literals(argument(call, 1, "explain")), set(), False)
    if called == "tell_unavailable":  # tell_unavailable(dispatcher, error, response): passes the service's name
        return Site(path, call, literals(argument(call, 2, "response")), {"service"}, True)
    return None


def sites_and_other_names() -> tuple[list[Site], list[tuple[str, str]]]:
    """The places that name a response with its values, and the names found anywhere else (in tables)."""
    sites: list[Site] = []
    others: list[tuple[str, str]] = []
    for path in ACTIONS:
        tree = ast.parse(path.read_text("utf-8"))
        at_sites: set[int] = set()
        for node in ast.walk(tree):
            site = site_of(path, node) if isinstance(node, ast.Call) else None
            if site and site.names:
                sites.append(site)
                at_sites.update(id(n) for n in ast.walk(node) if literals(n) and isinstance(n, ast.Constant))
        others += [
            (f"{path.name}:{node.lineno}", node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and literals(node) and id(node) not in at_sites
        ]
    return sites, others


def test_every_response_the_actions_name_is_in_the_domain(domain: dict[str, Any]) -> None:
    names = {
        (f"{path.name}:{node.lineno}", node.value)
        for path in ACTIONS
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if literals(node) and isinstance(node, ast.Constant)
    }
    assert len(names) > 100  # the scan sees the actions' responses
    missing = sorted(f"{where}: {name}" for where, name in names if name not in domain["responses"])
    assert not missing, "\n".join(missing)


def test_the_actions_pass_exactly_the_values_each_response_says(domain: dict[str, Any]) -> None:
    """No value is computed for nothing (a renamed variable), and none is missing (it would be shown as {name})."""
    slots = set(domain["slots"])
    sites, others = sites_and_other_names()
    assert len(sites) > 80
    problems = []
    for site in sites:
        for name in site.names:
            said = variables(domain["responses"].get(name, []))
            if site.passed is None:
                continue
            if unused := site.passed - said:
                problems.append(f"{site.where}: {name} does not use {sorted(unused)}")
            if missing := said - site.passed - (slots if site.from_slots else set()):
                problems.append(f"{site.where}: {name} needs {sorted(missing)}")
    # Names kept elsewhere (tables of responses, of parts) are used without values.
    for where, name in others:
        if variables(domain["responses"].get(name, [])):
            problems.append(f"{where}: {name} needs values but is named where none can be given")
    assert not problems, "\n".join(problems)


def test_the_actions_send_responses_not_text() -> None:
    """The actions send responses by name: none sends text of its own."""
    for path in ACTIONS:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            called = node.func if isinstance(node, ast.Call) else None
            if isinstance(called, ast.Attribute) and called.attr == "utter_message":
                assert argument(node, 0, "text") is None, f"{path.name}:{node.lineno} sends text instead of a response"
                assert argument(node, 99, "response") is not None, f"{path.name}:{node.lineno} names no response"
