"""The first page a new install shows: create the first administrator, then go to the admin."""

from django import forms
from django.shortcuts import redirect, render

from . import services


class FirstAdminForm(forms.Form):
    user = forms.EmailField(label="Email", max_length=254)
    password = forms.CharField(label="Password", widget=forms.PasswordInput, max_length=512)
    password_again = forms.CharField(label="Password (again)", widget=forms.PasswordInput, max_length=512)

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            raise forms.ValidationError("The two passwords differ.")
        return data


def home(request):
    if services.is_initialized():
        return redirect("admin:index")
    form = FirstAdminForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.initialize_first_admin(form.cleaned_data["user"], form.cleaned_data["password"])
        except services.AlreadyInitialized:
            return redirect("admin:index")
        except services.AccountError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("admin:index")
    return render(request, "accounts/setup.html", {"form": form})
