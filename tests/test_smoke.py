def test_home_page_lists_events_on_sale(client, event):
    response = client.get("/")
    assert response.status_code == 200
    assert "Test Concert" in response.content.decode()
