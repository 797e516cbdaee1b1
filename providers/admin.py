"""Providers and models in the admin. Keys are masked everywhere on these pages: the list shows `sk-***`, the
change form shows one masked line per stored key, and leaving such a line as it is keeps that key."""

import re

from django import forms
from django.contrib import admin, messages
from django.db import models as db_models
from django.utils.html import format_html, format_html_join

from . import crypto, selectors, services
from .models import MODEL_KINDS, EmbeddingModel, LLMModel, Provider, RerankModel
from .requesters.registry import get_registry, get_requester

MAX_MODELS_PER_TEST = 20  # an admin action answers within one request: test at most this many models at once
_ADMIN_MASKED_LINE = re.compile(r"^(?P<mask>.*\*\*\*) \(key (?P<position>\d+)\)$")


def _requester_label(name: str) -> str:
    requester = get_requester(name)
    return f"{requester.label['en_US']} ({name})" if requester else f"{name} (unknown requester)"


class RequesterSelect(forms.Select):
    """A select whose options carry the requester's icon and default base URL, for the change form's script."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        requester = get_requester(str(value))
        if requester:
            option["attrs"]["data-icon"] = f"/api/v1/provider/requesters/{requester.name}/icon"
            option["attrs"]["data-base-url"] = requester.default_base_url
        return option


class ProviderAdminForm(forms.ModelForm):
    requester = forms.ChoiceField(widget=RequesterSelect)
    base_url = forms.CharField(
        label="Base URL",
        required=False, max_length=2048, widget=forms.TextInput(attrs={"size": 60}),
        help_text="Leave empty to use the requester's default base URL.",
    )
    api_keys_text = forms.CharField(
        label="API keys",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60, "autocomplete": "off", "spellcheck": "false"}),
        help_text="One key per line. Stored keys are shown masked: leave a masked line as it is to keep that key, "
        "delete the line to remove the key, add a line to add a key.",
    )

    class Meta:
        model = Provider
        fields = ["name", "requester", "base_url", "timeout"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requester"].choices = [(name, _requester_label(name)) for name in get_registry()]
        if self.instance.pk:
            self.fields["api_keys_text"].initial = "\n".join(
                f"{crypto.mask_key(key)} (key {position})" for position, key in enumerate(self.instance.api_keys, 1)
            )

    def _keys_from_lines(self) -> list[str]:
        """The textarea's lines; a masked line `sk-*** (key 2)` stands for the stored key at that position."""
        stored = self.instance.api_keys if self.instance.pk else []
        keys = []
        for line in self.cleaned_data.get("api_keys_text", "").splitlines():
            line = line.strip()
            match = _ADMIN_MASKED_LINE.match(line)
            if match:
                position = int(match["position"])
                if not (1 <= position <= len(stored)) or crypto.mask_key(stored[position - 1]) != match["mask"]:
                    raise forms.ValidationError(f"{line!r} does not match a stored key; paste the full key instead")
                line = stored[position - 1]
            keys.append(line)
        return keys

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            keys = self._keys_from_lines()
        except forms.ValidationError as exc:
            self.add_error("api_keys_text", exc)
            return cleaned
        changes = {field: cleaned.get(field) for field in ("name", "requester", "base_url", "timeout")}
        changes["api_keys"] = keys
        try:
            self.provider_changes = services.validate_provider_changes(self.instance, changes)
        except services.InvalidRequest as exc:
            raise forms.ValidationError(str(exc)) from exc
        return cleaned


class ModelKindFormSet(forms.BaseInlineFormSet):
    """Models added inline must be of a kind the provider's requester serves."""

    kind_key = ""

    def clean(self):
        super().clean()
        kind = MODEL_KINDS[self.kind_key]
        kept = [f for f in self.forms if f.cleaned_data and not (self.can_delete and self._should_delete_form(f))]
        if kept:
            requester = get_requester(self.instance.requester)
            if requester is None or not requester.supports(kind.support_type):
                raise forms.ValidationError(
                    f"Requester {self.instance.requester} does not support {kind.support_type} models."
                )


class ModelAdminForm(forms.ModelForm):
    kind_key = ""

    def clean(self):
        cleaned = super().clean()
        provider = cleaned.get("provider")
        try:
            if provider is not None:
                services.check_supported(MODEL_KINDS[self.kind_key], provider)
            if "abilities" in cleaned:
                cleaned["abilities"] = services.normalize_abilities(cleaned["abilities"] or [])
            if not isinstance(cleaned.get("extra_args") or {}, dict):
                raise services.InvalidRequest("extra_args must be a JSON object")
        except services.InvalidRequest as exc:
            raise forms.ValidationError(str(exc)) from exc
        return cleaned


def _inline(kind_key: str, model_class, extra_fields=()):
    formset = type(f"{kind_key.title()}FormSet", (ModelKindFormSet,), {"kind_key": kind_key})
    form = type(f"{kind_key.title()}InlineForm", (ModelAdminForm,), {"kind_key": kind_key})
    return type(
        f"{model_class.__name__}Inline",
        (admin.TabularInline,),
        {
            "model": model_class,
            "formset": formset,
            "form": form,
            "extra": 0,
            "fields": ["name", *extra_fields, "context_length", "prefered_ranking", "extra_args"],
            # The admin's default widgets (a 40x10 JSON textarea, a wide text input) push a row of the inline table
            # beyond the page's width.
            "formfield_overrides": {
                db_models.JSONField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 20})},
                db_models.CharField: {"widget": forms.TextInput(attrs={"size": 20})},
            },
        },
    )


def _test_message(label: str, run) -> tuple[int, str]:
    """Run one test; the admin message says what the upstream answered."""
    try:
        outcome = run()
    except services.UpstreamError as exc:
        return messages.ERROR, f"{label}: failed: {exc}"
    except services.InvalidRequest as exc:
        return messages.ERROR, f"{label}: cannot test: {exc}"
    return messages.SUCCESS, f"{label}: {outcome}"


def _test_models(model_admin, request, kind_key: str, models) -> None:
    kind = MODEL_KINDS[kind_key]
    for model in models[:MAX_MODELS_PER_TEST]:
        level, text = _test_message(
            f"{model.provider.name} / {kind.label} model {model.name}",
            lambda model=model: f"OK, answered in {services.probe_model(kind, model)} ms",
        )
        model_admin.message_user(request, text, level)
    if len(models) > MAX_MODELS_PER_TEST:
        model_admin.message_user(
            request, f"Tested the first {MAX_MODELS_PER_TEST} of {len(models)} models; select fewer to test the rest.",
            messages.WARNING,
        )


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderAdminForm
    list_display = ["name", "requester_display", "base_url", "keys_display", "llm_count", "embedding_count",
                    "rerank_count", "updated_at"]
    list_filter = ["requester", "created_at"]
    search_fields = ["name", "base_url", "requester"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    fields = ["name", "requester", "base_url", "api_keys_text", "timeout", "uuid", "created_at", "updated_at"]
    inlines = [
        _inline("llm", LLMModel, extra_fields=["abilities"]),
        _inline("embedding", EmbeddingModel),
        _inline("rerank", RerankModel),
    ]
    actions = ["test_connection"]

    def get_queryset(self, request):
        return selectors.providers_with_counts()

    def get_fields(self, request, obj=None):
        return self.fields if obj else [f for f in self.fields if f not in self.readonly_fields]

    @admin.display(description="Requester", ordering="requester")
    def requester_display(self, provider):
        requester = get_requester(provider.requester)
        return format_html(
            '<span title="{}" style="white-space:nowrap"><img src="/api/v1/provider/requesters/{}/icon" width="16" '
            'height="16" alt="" style="vertical-align:middle;margin-right:4px">{}</span>',
            provider.requester, provider.requester, requester.label["en_US"] if requester else provider.requester,
        )

    @admin.display(description="API keys")
    def keys_display(self, provider):
        try:
            masked = provider.masked_api_keys
        except crypto.SecretsUnreadable:
            return "(unreadable: check PROVIDER_SECRET_KEYS)"
        return format_html_join(", ", "<code>{}</code>", ((m,) for m in masked)) or "—"

    @admin.display(description="LLM", ordering="llm_count")
    def llm_count(self, provider):
        return provider.llm_count

    @admin.display(description="Embedding", ordering="embedding_count")
    def embedding_count(self, provider):
        return provider.embedding_count

    @admin.display(description="Rerank", ordering="rerank_count")
    def rerank_count(self, provider):
        return provider.rerank_count

    def save_model(self, request, obj, form, change):
        services.update_provider(obj, **form.provider_changes)

    def delete_model(self, request, obj):
        # Models PROTECT their provider, so the admin only gets here for an unused one (as in the API without cascade).
        services.delete_provider(obj)

    def delete_queryset(self, request, queryset):
        for provider in queryset:
            services.delete_provider(provider)

    @admin.action(description="Test connection (every model, or the model list when there are none)")
    def test_connection(self, request, queryset):
        for provider in queryset:
            models = {key: list(kind.model.objects.filter(provider=provider).select_related("provider"))
                      for key, kind in MODEL_KINDS.items()}
            if not any(models.values()):
                level, text = _test_message(
                    f"{provider.name}",
                    lambda provider=provider: f"reachable, the upstream lists {len(services.scan_models(provider))} model(s)",
                )
                self.message_user(request, text, level)
                continue
            for kind_key, kind_models in models.items():
                _test_models(self, request, kind_key, kind_models)


class _ProviderModelAdmin(admin.ModelAdmin):
    kind_key = ""
    list_display = ["name", "provider", "context_length", "prefered_ranking", "updated_at"]
    list_filter = [("provider", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["name", "provider__name"]
    list_select_related = ["provider"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    actions = ["test_models"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = type("KindForm", (ModelAdminForm,), {"kind_key": self.kind_key})
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.action(description="Test selected models")
    def test_models(self, request, queryset):
        _test_models(self, request, self.kind_key, list(queryset.select_related("provider")))


@admin.register(LLMModel)
class LLMModelAdmin(_ProviderModelAdmin):
    kind_key = "llm"
    list_display = ["name", "provider", "abilities", "context_length", "prefered_ranking", "updated_at"]


@admin.register(EmbeddingModel)
class EmbeddingModelAdmin(_ProviderModelAdmin):
    kind_key = "embedding"


@admin.register(RerankModel)
class RerankModelAdmin(_ProviderModelAdmin):
    kind_key = "rerank"
