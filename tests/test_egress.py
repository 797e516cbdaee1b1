"""EGRESS_ALLOWED_NETWORKS keeps outbound requests inside the networks an operator allows (only resolution here,
never a connection)."""

import pytest

from langbot_site.egress import EgressRefused, check_url


def test_everything_allowed_by_default(settings):
    settings.EGRESS_ALLOWED_NETWORKS = ""
    check_url("http://10.20.30.40/v1")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/v1", "http://localhost:8080", "http://[::1]:5/x"])
def test_allowed_networks_pass(settings, url):
    settings.EGRESS_ALLOWED_NETWORKS = "127.0.0.0/8, ::1/128"
    check_url(url)


@pytest.mark.parametrize("url", ["http://10.20.30.40/v1", "http://192.168.1.1", "https://[fe80::1]/", "http:///nohost"])
def test_other_networks_are_refused(settings, url):
    settings.EGRESS_ALLOWED_NETWORKS = "127.0.0.0/8"
    with pytest.raises(EgressRefused):
        check_url(url)
