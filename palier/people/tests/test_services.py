def test_system_accounts_cannot_sign_in_and_stay_out_of_people_lists(client, admin_user, agent):
    from palier.people import selectors
    from palier.people.selectors import users_matching
    from palier.people.services import system_account

    robot = system_account(email="mail-robot@palier.invalid", full_name="Palier (email)")
    assert system_account(email="mail-robot@palier.invalid", full_name="again") == robot  # created once
    assert robot.is_admin and robot.is_system and not robot.has_usable_password()
    assert not client.login(email=robot.email, password="")
    rows, _ = selectors.user_page_for_admin()
    assert robot not in rows and admin_user in rows
    assert robot not in selectors.active_agents() and agent in selectors.active_agents()
    assert not users_matching("palier").filter(pk=robot.pk).exists()
