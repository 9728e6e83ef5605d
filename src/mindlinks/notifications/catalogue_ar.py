# ruff: noqa: RUF001  (Arabic letters in the strings are meant)
"""The notifications in Arabic: for each kind of `catalogue.KINDS` its in-app title, message
and email subject, written with the same variables (and the same filters: `money`, `date`,
`datetime` format in the recipient's locale, `ar` for these), and the Arabic email layout
(right to left).

Which language a recipient gets is their `language` preference (seed 001 user-preferences,
`notification_preferences.language`, the one the web pages follow); without one, English.
These texts are seeded into `notification_templates` as the Arabic rows (`language = 'ar'`),
which admins edit like the English ones; `templates.load` falls back to them. This module is
the notifications domain's own catalogue; it does not use the web's Babel catalogue (a domain
does not import `web`).
"""

from __future__ import annotations

from mindlinks.notifications.catalogue import Kind

LANGUAGE = "ar"
LOCALE = "ar"  # Babel locale of the money/date filters for these mails

_SECURITY_FOOTER = " إن لم تكن أنت، فأعد تعيين كلمة المرور وتواصل مع الدعم فورًا."
_PERIOD = "{{ 'أمس' if period_label == 'yesterday' else 'الأسبوع الماضي' }}"

# type -> (in-app title, message, email subject)
TEXTS: dict[str, tuple[str, str, str]] = {
    "profile_updated": (
        "تم تحديث الملف الشخصي",
        "تم تحديث ملفك الشخصي{% if fields %} ({{ fields | join('، ') }}){% endif %}.",
        "تم تحديث ملفك الشخصي في Mind-Links",
    ),
    "kyc_completed": (
        "تحديث التحقق من الهوية",
        "{% if kyc_status == 'verified' %}تم التحقق من هويتك: يمكنك الآن توقيع العقود وتلقي "
        "المدفوعات.{% else %}انتهى التحقق من هويتك: {{ kyc_status }}.{% endif %}",
        "اكتمل التحقق من هويتك",
    ),
    "contract_ready_to_sign": (
        "عقد جاهز للتوقيع",
        "أرسل إليك {{ client_name or 'أحد العملاء' }} عقدًا جديدًا"
        "{% if contract_title %}: {{ contract_title }}{% endif %}",
        "عقد جاهز لتوقيعك",
    ),
    "contract_signed": (
        "تم توقيع العقد",
        "وقّع {{ signer_name or 'الطرف الآخر' }} {{ contract_title or 'العقد' }}",
        "تم توقيع العقد",
    ),
    "timesheet_submitted": (
        "تم تقديم سجل دوام",
        "قدّم {{ contractor_name or 'أحد المتعاقدين' }} سجل دوام"
        "{% if hours is not none %} بعدد {{ hours }} ساعة{% endif %}"
        "{% if period_start %} ({{ period_start | date }} - {{ period_end | date }}){% endif %}",
        "سجل دوام بانتظار موافقتك",
    ),
    "timesheet_approved": (
        "تمت الموافقة على سجل الدوام",
        "تمت الموافقة على سجل دوامك{% if period_start %} للفترة {{ period_start | date }} - "
        "{{ period_end | date }}{% endif %}"
        "{% if amount is not none %}: {{ amount | money(currency) }}{% endif %}",
        "تمت الموافقة على سجل دوامك",
    ),
    "timesheet_rejected": (
        "تم رفض سجل الدوام",
        "تم رفض سجل دوامك{% if period_start %} للفترة {{ period_start | date }} - "
        "{{ period_end | date }}{% endif %}: {{ reason }}",
        "تم رفض سجل دوامك",
    ),
    "timesheet_reminder": (
        "موعد سجل الدوام",
        "يرجى تقديم سجل دوامك{% if contract_title %} لعقد {{ contract_title }}{% endif %} "
        "للفترة {{ period_start | date }} - {{ period_end | date }}"
        "{% if due_at %}؛ آخر موعد له {{ due_at | datetime }}{% endif %}.",
        "حان موعد تقديم سجل دوامك",
    ),
    "payment_received": (
        "تم استلام دفعة",
        "استلمت {{ amount | money(currency) }}{% if client_name %} من {{ client_name }}"
        "{% endif %}",
        "استلمت {{ amount | money(currency) }}",
    ),
    "invoice_issued": (
        "فاتورة جديدة",
        "صدرت الفاتورة {{ invoice_number }} بمبلغ {{ amount | money(currency) }}؛ تاريخ "
        "استحقاقها {{ due_date }}.",
        "صدرت الفاتورة {{ invoice_number }}",
    ),
    "invoice_overdue": (
        "فاتورة متأخرة",
        "كانت الفاتورة {{ invoice_number }} بمبلغ {{ amount | money(currency) }} مستحقة في "
        "{{ due_date }} ولم تُدفع بعد.",
        "الفاتورة {{ invoice_number }} متأخرة",
    ),
    "invoice_awaiting_funding": (
        "مطلوب تمويل",
        "الفاتورة {{ invoice_number }} بمبلغ {{ amount | money(currency) }} بانتظار التمويل: "
        "رصيد الضمان لا يغطيها. أضف أموالًا لسدادها في موعدها.",
        "الفاتورة {{ invoice_number }} تحتاج إلى تمويل",
    ),
    "withdrawal_requested": (
        "تم طلب سحب",
        "تم طلب سحب {{ amount | money(currency) }}.",
        "تم طلب سحب {{ amount | money(currency) }}",
    ),
    "withdrawal_completed": (
        "اكتمل السحب",
        "تم صرف سحبك البالغ {{ amount | money(currency) }}.",
        "تم صرف سحبك البالغ {{ amount | money(currency) }}",
    ),
    "withdrawal_failed": (
        "فشل السحب",
        "تعذّر صرف سحبك البالغ {{ amount | money(currency) }}{% if reason %}: {{ reason }}"
        "{% endif %}. المبلغ متاح في محفظتك من جديد.",
        "فشل سحبك البالغ {{ amount | money(currency) }}",
    ),
    "withdrawal_reversed": (
        "أُعيد السحب",
        "أعاد مصرفك السحب البالغ {{ amount | money(currency) }}{% if reason %} ({{ reason }})"
        "{% endif %}. عاد المبلغ، بما فيه الرسم، إلى محفظتك.",
        "أُعيد سحبك البالغ {{ amount | money(currency) }}",
    ),
    "payout_new_account": (
        "صرف إلى حساب جديد",
        "تم طلب سحب {{ amount | money(currency) }} إلى حساب صرف جديد"
        "{% if account_last4 %} ينتهي بـ {{ account_last4 }}{% endif %}." + _SECURITY_FOOTER,
        "تنبيه أمني: صرف إلى حساب جديد",
    ),
    "password_reset": (
        "تم تغيير كلمة المرور",
        "أُعيد تعيين كلمة المرور في {{ occurred_at | datetime }}." + _SECURITY_FOOTER,
        "تنبيه أمني: أُعيد تعيين كلمة المرور",
    ),
    "new_login": (
        "تسجيل دخول جديد",
        "تسجيل دخول جديد إلى حسابك{% if device %} من {{ device }}{% endif %} في "
        "{{ occurred_at | datetime }}." + _SECURITY_FOOTER,
        "تنبيه أمني: تسجيل دخول جديد",
    ),
    "mfa_changed": (
        "تغيّرت المصادقة الثنائية",
        "تم {{ 'تفعيل' if mfa_enabled else 'تعطيل' }} المصادقة الثنائية في "
        "{{ occurred_at | datetime }}." + _SECURITY_FOOTER,
        "تنبيه أمني: تغيّرت المصادقة الثنائية",
    ),
    "company_claim_contested": (
        "سجّل حساب آخر شركتك",
        "سجّل حساب آخر شركة برقم السجل التجاري لشركتك. لم يُتحقق منها وهي بانتظار مراجعة "
        "أحد المسؤولين؛ إن لم تكن على علم بذلك فتواصل مع الدعم.",
        "تنبيه أمني: حساب آخر سجّل شركتك",
    ),
    "digest": (
        "إشعاراتك",
        "{{ count }} إشعارات " + _PERIOD,
        "ملخصك في Mind-Links: {{ count }} إشعارات " + _PERIOD,
    ),
}

_DIGEST_HTML = (
    '<div dir="rtl" lang="ar">\n<p>مرحبًا {{ recipient_name }}،</p>\n'
    "<p>هذا ما حدث " + _PERIOD + ":</p>\n<ul>\n"
    "{% for item in items %}<li><strong>{{ item.title }}</strong>: "
    "{{ item.message }} <small>({{ item.created_at | datetime }})</small></li>\n"
    "{% endfor %}</ul>\n"
    '<p><a href="{{ app_url }}/notifications">افتح إشعاراتك</a></p>\n'
    '{% if unsubscribe_url %}<p style="font-size:12px;color:#666">'
    '<a href="{{ unsubscribe_url }}">إلغاء الاشتراك في هذه الرسائل</a></p>{% endif %}\n</div>'
)
_DIGEST_TEXT = (
    "مرحبًا {{ recipient_name }}،\n\nهذا ما حدث " + _PERIOD + ":\n\n"
    "{% for item in items %}- {{ item.title }}: {{ item.message }} "
    "({{ item.created_at | datetime }})\n{% endfor %}\n"
    "افتح إشعاراتك: {{ app_url }}/notifications\n"
    "{% if unsubscribe_url %}\nإلغاء الاشتراك: {{ unsubscribe_url }}\n{% endif %}"
)


def sources(kind: Kind, channel: str) -> tuple[str | None, str, str | None]:
    """The Arabic (subject, body, text_body) of `kind` on `channel`: the same shapes as
    `catalogue.default_sources`."""
    title, message, subject = TEXTS[kind.type]
    if channel == "in_app":
        return title, message, None
    if channel == "sms":
        return None, "Mind-Links: " + message, None
    if kind.type == "digest":
        return subject, _DIGEST_HTML, _DIGEST_TEXT
    html = (
        '<div dir="rtl" lang="ar">\n<p>مرحبًا {{ recipient_name }}،</p>\n<p>' + message
        + "</p>\n"
        '{% if action_url %}<p><a href="{{ action_url }}">اعرضه في Mind-Links</a></p>'
        "{% endif %}\n"
        '{% if unsubscribe_url %}<p style="font-size:12px;color:#666">'
        "تصلك هذه الرسالة بسبب إعدادات الإشعارات لديك. "
        '<a href="{{ unsubscribe_url }}">إلغاء الاشتراك</a></p>{% endif %}\n</div>'
    )
    text = (
        "مرحبًا {{ recipient_name }}،\n\n" + message + "\n"
        "{% if action_url %}\nاعرضه في Mind-Links: {{ action_url }}\n{% endif %}"
        "{% if unsubscribe_url %}\nإلغاء الاشتراك: {{ unsubscribe_url }}\n{% endif %}"
    )
    return subject, html, text
