def test_system_info_is_public(api_client, db):
    response = api_client.get("/api/v1/system/info")
    assert response.status_code == 200
    assert response.json()["code"] == 0
