"""Structured errors: every failure is {"error": {"code", "message", "details"}}, message in polite Chinese.

FastAPI's own 404/405/422 and unexpected exceptions are mapped to the same shape, so a client never has to
parse HTML or a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("services.errors")

# Field names as the citizen knows them, for validation messages.
FIELD_LABELS = {
    "name": "姓名",
    "id_number": "身份证号码",
    "phone": "手机号码",
    "chat_user": "会话用户标识",
    "verification_id": "验证编号",
    "code": "验证码",
    "commitment": "承诺确认",
    "school": "学校",
    "major": "专业",
    "degree": "学历",
    "graduation_year": "毕业年份",
    "page": "页码",
    "page_size": "每页条数",
    "date_from": "开始日期",
    "date_to": "结束日期",
    "online": "线上/线下",
    "include_past": "是否包含已结束",
    "passenger_status": "客运状态",
    "temperature": "体温",
    "symptoms": "症状",
    "key_area_travel": "近14天是否到过重点地区",
    "area": "地区",
    "contact_with_case": "近14天是否接触过确诊或疑似病例",
    "reason": "申请理由",
    "advance_days": "拨快天数",
    "credit_code": "统一社会信用代码",
    "planned_date": "计划复工日期",
    "returning_staff": "返岗员工人数",
    "key_area_staff": "来自重点地区的员工人数",
    "supplies_days": "防疫物资储备天数",
    "isolation_rooms": "隔离室数量",
    "plate": "车牌号码",
    "vin_tail": "车辆识别代号（车架号）后6位",
    "destination_city": "转入地城市",
    "month": "月份",
    "tax": "税种",
    "period": "所属期",
    "months": "延期月数",
    "amount": "欠缴税款金额",
    "days": "滞纳天数",
    "due_date": "缴款期限",
    "paid_date": "实际缴款日期",
    "agree": "是否同意在线参加",
    "version": "调解协议版本",
    "case_number": "案号",
    "hearing_id": "庭审（听证）编号",
    "text": "调解协议内容",
}

# Some fields have their own error code in the contract; everything else is invalid_field.
FIELD_ERROR_CODES = {
    "id_number": "invalid_id_number",
    "phone": "invalid_phone",
    "temperature": "invalid_temperature",
    "symptoms": "invalid_symptoms",
    "credit_code": "invalid_credit_code",
}

FIELD_MESSAGES = {
    "id_number": "您输入的身份证号码无效（应为18位，且校验位正确），请核对后重新输入。",
    "phone": "您输入的手机号码无效，请输入11位中国大陆手机号码。",
    "temperature": "体温请填写数字（单位℃），例如 36.5。",
    "symptoms": "症状请以列表填写，可选发热、咳嗽、乏力；没有症状请填写空列表。",
}


class ApiError(Exception):
    """A refusal the citizen should hear about: carries the HTTP status, code and Chinese message."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(code, message, details))


async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
    return _response(exc.status, exc.code, exc.message, exc.details)


def _field_of(error: dict[str, Any]) -> str:
    """The last named part of a pydantic error location, e.g. ('body', 'phone') → 'phone'."""
    names = [part for part in error.get("loc", ()) if isinstance(part, str) and part not in {"body", "query"}]
    return names[-1] if names else "body"


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    first = errors[0] if errors else {}
    field = _field_of(first)
    if first.get("type") == "value_error.jsondecode" or field == "body":
        return _response(
            422, "invalid_request", "请求内容格式不正确，请以 JSON 格式提交所需信息。", {"field": "body"}
        )
    code = FIELD_ERROR_CODES.get(field, "invalid_field")
    label = FIELD_LABELS.get(field, field)
    if first.get("type") == "value_error.missing":
        message = f"缺少{label}，请补充后重新提交。"
    else:
        message = FIELD_MESSAGES.get(field, f"您填写的{label}不符合要求，请核对后重新输入。")
    # Only field names go back, never the submitted values (they may be personal data).
    fields = sorted({_field_of(error) for error in errors})
    return _response(422, code, message, {"field": field, "fields": fields})


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 404:
        return _response(404, "not_found", "抱歉，您访问的服务地址不存在，请核对后再试。")
    if exc.status_code == 405:
        return _response(405, "method_not_allowed", "抱歉，该服务地址不支持此请求方式。")
    return _response(exc.status_code, "http_error", "抱歉，请求未能处理，请稍后再试。")


async def _catch_unexpected(request: Request, call_next: Any) -> Any:
    """Turn any unhandled exception into a structured 500.

    A middleware rather than an Exception handler: Starlette re-raises after running such a handler, and the
    server would then log a traceback whose exception text may contain personal data.
    """
    try:
        return await call_next(request)
    except Exception as exc:
        logger.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return _response(500, "internal_error", "抱歉，系统暂时出现问题，请您稍后再试或拨打 12345 热线咨询。")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.middleware("http")(_catch_unexpected)
