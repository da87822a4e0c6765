app_name = "macros"

urlpatterns: list[object] = []
