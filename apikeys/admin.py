"""API keys in the admin: create (secret shown once), list, search, filter, revoke. The secret and its hash never
appear on any admin page after the creation page."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from . import services
from .models import APIKey
from .scopes import SCOPE_CHOICES


class APIKeyCreationForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Leave all unchecked to grant every scope you hold.",
    )

    class Meta:
        model = APIKey
        fields = ["name", "description", "scopes", "expires_at"]

    def clean_expires_at(self):
        value = self.cleaned_data.get("expires_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.")
        return value


class ExpiryFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [("expired", "Expired"), ("expiring", "Has an expiry, not yet expired"), ("never", "Never expires")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        if self.value() == "expiring":
            return queryset.filter(expires_at__gt=now)
        if self.value() == "never":
            return queryset.filter(expires_at__isnull=True)
        return queryset


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix_display", "scopes_display", "status", "expires_at", "last_used_at", "created_by", "created_at"]
    list_filter = ["status", ExpiryFilter, "created_at"]
    search_fields = ["name", "description", "prefix"]
    list_select_related = ["created_by"]
    actions = ["revoke_selected"]
    readonly_fields = ["prefix_display", "scopes", "status", "expires_at", "last_used_at", "revoked_at", "created_by", "created_at", "updated_at", "uuid"]
    fields = ["name", "description", *readonly_fields]
    date_hierarchy = "created_at"

    @admin.display(description="Key", ordering="prefix")
    def prefix_display(self, obj):
        return f"{obj.prefix}…"

    @admin.display(description="Scopes")
    def scopes_display(self, obj):
        return ", ".join(obj.scopes) or "—"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = APIKeyCreationForm
            kwargs["fields"] = APIKeyCreationForm.Meta.fields
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return APIKeyCreationForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        issued = services.create_api_key(
            name=data["name"],
            description=data.get("description", ""),
            scopes=data.get("scopes") or None,
            expires_at=data.get("expires_at"),
            created_by=request.user,
        )
        # The admin goes on with `obj` (history entry, response_add): give it the saved key's state (pk, prefix,
        # the granted scopes), not just the form's fields.
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(issued.key, field.attname))
        obj._state.adding, obj._state.db = False, issued.key._state.db
        form.instance = obj
        request._issued_secret = issued.secret  # lives only for this response

    def response_add(self, request, obj, post_url_continue=None):
        """Show the secret once, on a page of its own, instead of redirecting to the list."""
        secret = getattr(request, "_issued_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "API key created",
            "key": obj,
            "secret": secret,
        }
        response = TemplateResponse(request, "admin/apikeys/apikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected API keys")
    def revoke_selected(self, request, queryset):
        count = services.revoke_api_keys(queryset)
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return False  # keys are revoked, not deleted: the row stays for audit
