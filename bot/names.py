"""Names and labels that several parts of the product share: written once here.

The actions record each service call's outcome in the slot TRANSACTION_RESULT_SLOT and the console counts them;
the console and the assistant show intents, services, forms and channels to people by these Chinese labels.
"""

from __future__ import annotations

TRANSACTION_RESULT_SLOT = "transaction_result"
RESULT_STATUSES = ("completed", "rejected", "error")
STATUS_LABELS = {"completed": "成功", "rejected": "未通过", "error": "服务异常"}

CHANNEL_LABELS = {"rest": "REST 接口", "webchat": "网页聊天", "wechat": "微信公众号", "telegram": "Telegram"}

# The `service` of a transaction_result.
SERVICE_LABELS = {
    "rent_subsidy": "租房补贴申请",
    "rent_subsidy_status": "租房补贴进度查询",
    "rent_subsidy_policy": "租房补贴政策",
    "entry_control": "入境政策查询",
    "port_status": "口岸通关查询",
    "campus_search": "招聘信息查询",
    "job_fair_registration": "招聘会报名",
    "identity": "身份核验",
    "health_code": "健康码申领",
    "health_code_query": "健康码查询",
    "health_code_check_in": "健康打卡",
    "health_code_appeal": "健康码申诉",
    "work_resumption": "企业复工申报",
    "work_resumption_status": "复工申报进度查询",
    "vehicle_transfer": "机动车转籍申请",
    "vehicle_transfer_status": "转籍进度查询",
    "tax_guidance": "税务咨询（申报期限、滞纳金、网上申报）",
    "tax_obligations": "纳税事项查询",
    "tax_deferral": "延期缴纳税款申请",
    "court_case": "案件查询",
    "court_hearing": "开庭（听证）参加方式确认",
    "mediation": "调解协议签署",
}

INTENT_LABELS = {
    "greet": "问候",
    "goodbye": "告别",
    "thank": "致谢",
    "affirm": "肯定",
    "deny": "否定",
    "help": "咨询服务范围",
    "bot_challenge": "询问是否机器人",
    "request_human": "转人工",
    "cancel": "取消办理",
    "out_of_scope": "超出服务范围",
    "inform": "提供信息",
    "show_more": "查看更多",
    "nlu_fallback": "未能理解",
    "rent_subsidy_apply": "申请租房补贴",
    "rent_subsidy_status": "查询租房补贴进度",
    "rent_subsidy_policy": "租房补贴政策",
    "entry_control_query": "入境政策查询",
    "port_status_query": "口岸通关查询",
    "job_fair_search": "查询招聘会",
    "job_search": "查询岗位",
    "job_fair_register": "报名招聘会",
    "job_fair_registrations": "查询报名记录",
    "policy_question": "政策咨询",
    "health_code_apply": "申领健康码",
    "health_code_query": "查询健康码",
    "health_code_check_in": "健康打卡",
    "health_code_appeal": "健康码申诉",
    "work_resumption_apply": "企业复工申报",
    "work_resumption_status": "查询复工申报进度",
    "vehicle_transfer_apply": "机动车转籍（档案电子转递）",
    "vehicle_transfer_status": "查询转籍进度",
    "tax_service_query": "电子税务咨询",
    "court_case_query": "查询我的案件",
    "court_hearing_query": "开庭与听证安排",
    "mediation_sign": "签署调解协议",
    "rate_service": "服务评价",
}

FORM_LABELS = {
    "rent_subsidy_form": "租房补贴申请",
    "rent_status_form": "租房补贴进度查询",
    "entry_control_form": "入境政策查询",
    "port_status_form": "口岸通关状态查询",
    "job_fair_registration_form": "招聘会报名",
    "job_registrations_form": "报名记录查询",
    "health_code_apply_form": "健康码申领",
    "health_code_query_form": "健康码查询",
    "health_code_check_in_form": "健康打卡",
    "health_code_appeal_form": "健康码申诉",
    "work_resumption_form": "企业复工申报",
    "work_resumption_status_form": "复工申报进度查询",
    "vehicle_transfer_form": "机动车转籍申请",
    "vehicle_transfer_status_form": "转籍进度查询",
    "tax_obligations_form": "纳税事项查询",
    "tax_deferral_form": "延期缴纳税款申请",
    "tax_surcharge_form": "滞纳金计算",
    "court_case_form": "案件查询",
    "court_hearing_form": "开庭与听证安排",
    "mediation_sign_form": "调解协议签署",
    "rating_comment_form": "服务评价意见",
}


def label(labels: dict[str, str], name: str) -> str:
    """The Chinese label of `name`, or the name itself when it has none yet."""
    return labels.get(name, name)
