"""The language switch: `POST /language` (a form in every page's footer) keeps the choice in
the `ml_lang` cookie and, for a signed-in user, in their `language` preference."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from mindlinks.notifications import service as notifications
from mindlinks.notifications.schemas import PreferencesUpdate
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.web import i18n, sessions
from mindlinks.web.pages import redirect, safe_next

router = domain_router(include_in_schema=False)


@router.post("/language")
async def switch_language(request: Request, session: SessionDep) -> Response:
    form = await request.form()
    sessions.check_csrf(request, form)
    raw = form.get("lang")
    language = raw if isinstance(raw, str) and raw in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    back = form.get("next")
    actor = await sessions.browser_actor(request)
    if actor is not None:
        await notifications.update_preferences(session, actor,
                                               PreferencesUpdate(language=language))
    response = redirect(request, safe_next(back if isinstance(back, str) else None))
    response.set_cookie(i18n.LANG_COOKIE, language, max_age=365 * 24 * 3600, path="/",
                        httponly=True, secure=sessions.secure(request), samesite="lax")
    return response
