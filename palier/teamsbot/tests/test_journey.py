"""A person's whole journey in Teams, against the local Bot Framework: "mon imprimante ne marche
plus" → an article → a ticket → an agent's public reply arriving in Teams → the person's reply
threading back → the resolution confirmed → the rating."""

from __future__ import annotations

import re
from typing import Any

import pytest

from palier.core.models import OutboxItem
from palier.integrations.models import ChatApp, ChatIdentity
from palier.integrations.services import chat
from palier.kb.tests.builders import make_article
from palier.people.models import User
from palier.surveys.models import SurveyResponse
from palier.teamsbot.models import SentMessage
from palier.teamsbot.tests.conftest import AAD, Microsoft, Post, load
from palier.tickets import services as ticket_services
from palier.tickets import stream
from palier.tickets.models import Comment, Ticket


@pytest.fixture(autouse=True)
def english(requester: User) -> None:
    """Tests read the bot's English words; the person's language wins over Teams' locale."""
    User.objects.filter(pk=requester.pk).update(language="en")
    requester.language = "en"


@pytest.fixture
def linked(bot: ChatApp, requester: User) -> User:
    chat.link_identity(kind=ChatApp.Kind.TEAMS, external_id=AAD, user=requester, by=None)
    return requester


def submitted(content: dict[str, Any], title: str, **inputs: Any) -> dict[str, Any]:
    """What Teams sends for a click on the card's button ``title``: its data plus the inputs."""
    for action in content.get("actions", []):
        if action.get("title") == title:
            return {**action["data"], **inputs}
    raise AssertionError(f"no button {title!r} in {content}")


def tell_in_teams(capture: Any) -> None:
    """The Teams consumer of the event stream runs (a worker's pump), its messages go out."""
    with capture(execute=True):
        stream.pump("teams")


def click(post: Post, microsoft: Microsoft, number: int, value: dict[str, Any], reply_to: str) -> Any:
    return post(load("card_submit", microsoft, id=f"click-{number}", value=value, replyToId=reply_to))


def test_from_a_printer_problem_to_a_rating(
    linked: User, agent: User, post: Post, microsoft: Microsoft, django_capture_on_commit_callbacks: Any
) -> None:
    make_article(
        agent,
        fr=("Imprimante : elle ne marche plus", "Éteignez l'imprimante, attendez dix secondes, rallumez-la."),
        summary="Redémarrer une imprimante bloquée",
    )
    # 1. the person describes the problem: the article comes first, then the way to a ticket
    assert post(load("personal_message", microsoft)).status_code == 200
    found = microsoft.cards()[-1]
    assert "Imprimante : elle ne marche plus" in str(found)
    assert "https://desk.example.test/kb/articles/" in str(found)
    assert not Ticket.objects.exists()

    # 2. the articles did not help: "Open a ticket"
    assert click(post, microsoft, 1, submitted(found, "Open a ticket"), reply_to="sent-1").status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.requester == linked and ticket.channel == Ticket.Channel.TEAMS
    assert ticket.subject == "mon imprimante ne marche plus"
    replaced = [c for c in microsoft.connector_calls() if c.method == "PUT"]
    assert replaced and replaced[-1].path.endswith("/activities/sent-1")  # the clicked card, answered
    assert ticket.reference in microsoft.texts()

    # a double click opens nothing more
    click(post, microsoft, 2, submitted(found, "Open a ticket"), reply_to="sent-1")
    assert Ticket.objects.count() == 1

    # 3. an agent's public reply arrives in Teams; internal notes do not
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.comment_on_ticket(ticket, by=agent, body="Note interne : toner vide ?", internal=True)
        ticket_services.comment_on_ticket(ticket, by=agent, body="Avez-vous essayé de la redémarrer ?")
    tell_in_teams(django_capture_on_commit_callbacks)
    assert "Avez-vous essayé de la redémarrer ?" in microsoft.texts()
    assert "toner vide" not in microsoft.texts()
    message = SentMessage.objects.filter(ticket=ticket).order_by("-pk").first()
    assert message is not None

    # 4. the person answers that message: a public comment on the ticket, channel "teams"
    answer = load(
        "personal_message", microsoft, id="answer-1", text="Oui, toujours en panne", replyToId=message.activity_id
    )
    assert post(answer).status_code == 200
    comment = Comment.objects.filter(ticket=ticket, author=linked).get()
    assert comment.body == "Oui, toujours en panne" and comment.channel == Ticket.Channel.TEAMS
    assert not comment.is_internal

    # 5. the agent resolves: the person is asked to confirm
    ticket.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.transition_ticket(ticket, to=Ticket.Status.RESOLVED, by=agent)
    tell_in_teams(django_capture_on_commit_callbacks)
    resolution = microsoft.cards()[-1]
    assert "We think this is solved" in str(resolution)
    confirm = submitted(resolution, "It is solved")
    assert confirm["palier"] == "confirm"
    click(post, microsoft, 3, confirm, reply_to="sent-resolution")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED

    # 6. the rating card
    rating = next(c for c in reversed(microsoft.cards()) if any(i.get("id") == "score" for i in c["body"]))
    rate = submitted(rating, "Send", score="5", comment="Merci !")
    click(post, microsoft, 4, rate, reply_to="sent-rating")
    response = SurveyResponse.objects.get(ticket=ticket)
    assert (response.score, response.comment) == (5, "Merci !")

    # the same confirm clicked again changes nothing and says so
    click(post, microsoft, 5, confirm, reply_to="sent-resolution")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    assert not OutboxItem.objects.exclude(state=OutboxItem.State.DONE).exists()  # every message went out


def test_a_stranger_gets_a_link_and_confirms_it_signed_in(
    bot: ChatApp, requester: User, post: Post, microsoft: Microsoft, client: Any
) -> None:
    post(load("personal_message", microsoft))
    assert not Ticket.objects.exists()
    text = microsoft.texts()
    start = text.index("https://desk.example.test/teams/link/")
    path = text[start:].split('"', 1)[0].removeprefix("https://desk.example.test")
    assert client.get(path).status_code == 302  # signed in first
    client.force_login(requester)
    assert client.get(path).status_code == 200
    assert not ChatIdentity.objects.exists()  # GET only asks
    page = client.post(path)
    assert page.status_code == 200
    code = re.search(r'id="teams-link-code">(\d{6})<', page.content.decode()).group(1)  # type: ignore[union-attr]
    assert not ChatIdentity.objects.exists()  # not before the code is typed in Teams
    wrong = "000000" if code != "000000" else "111111"
    post(load("personal_message", microsoft, id="wrong", text=wrong))
    assert not ChatIdentity.objects.exists()
    post(load("personal_message", microsoft, id="code", text=code))
    assert ChatIdentity.objects.get().user == requester
    assert "I know you now" in str(microsoft.cards()[-1])
    # now the bot knows them: the same words look for articles
    post(load("personal_message", microsoft, id="second"))
    assert "Open a ticket" in str(microsoft.cards()[-1])


def test_a_link_confirmed_by_someone_else_links_nothing_without_the_code(
    bot: ChatApp, requester: User, requester_b: User, post: Post, microsoft: Microsoft, client: Any
) -> None:
    """The Teams account's owner sends their link to someone signed in to Palier: that person's
    confirmation alone links nothing, and guessing the code stops after five tries."""
    post(load("personal_message", microsoft))
    text = microsoft.texts()
    start = text.index("https://desk.example.test/teams/link/")
    path = text[start:].split('"', 1)[0].removeprefix("https://desk.example.test")
    client.force_login(requester_b)
    page = client.post(path).content.decode()
    code = re.search(r'id="teams-link-code">(\d{6})<', page).group(1)  # type: ignore[union-attr]
    guesses = [f"{n:06d}" for n in range(6) if f"{n:06d}" != code][:5]
    for n, guess in enumerate(guesses):
        post(load("personal_message", microsoft, id=f"guess-{n}", text=guess))
    post(load("personal_message", microsoft, id="late", text=code))  # the wait ended after five tries
    assert not ChatIdentity.objects.exists()


def test_a_link_cannot_take_an_account_already_linked(
    bot: ChatApp, requester: User, requester_b: User, post: Post, microsoft: Microsoft, client: Any
) -> None:
    post(load("personal_message", microsoft))
    text = microsoft.texts()
    start = text.index("https://desk.example.test/teams/link/")
    path = text[start:].split('"', 1)[0].removeprefix("https://desk.example.test")
    chat.link_identity(kind=ChatApp.Kind.TEAMS, external_id=AAD, user=requester, by=None)
    client.force_login(requester_b)
    assert client.post(path).status_code == 409
    assert ChatIdentity.objects.get().user == requester


def test_a_forged_link_links_nothing(bot: ChatApp, requester: User, client: Any) -> None:
    client.force_login(requester)
    assert client.post("/teams/link/eyJhcHAiOjEsImFhZCI6ImV2aWwifQ:forged/").status_code == 400
    assert not ChatIdentity.objects.exists()


def test_someone_cannot_open_another_persons_ticket_from_a_card(
    linked: User, requester_b: User, post: Post, microsoft: Microsoft
) -> None:
    theirs = ticket_services.open_ticket(requester=requester_b, by=None, subject="Secret", description="x")
    click(post, microsoft, 1, {"palier": "show", "ticket": theirs.pk}, reply_to="x")
    click(post, microsoft, 2, {"palier": "reply", "ticket": theirs.pk, "comment": "hi"}, reply_to="x")
    assert "Secret" not in microsoft.texts()
    assert not Comment.objects.filter(ticket=theirs).exists()


def test_my_open_requests(linked: User, post: Post, microsoft: Microsoft) -> None:
    mine = ticket_services.open_ticket(requester=linked, by=None, subject="Écran noir", description="x")
    post(load("personal_message", microsoft, text="mes demandes"))
    listed = microsoft.cards()[-1]
    assert mine.reference in str(listed) and "Écran noir" in str(listed)
    click(post, microsoft, 1, submitted(listed, mine.reference), reply_to="sent-list")
    assert "Écran noir" in str(microsoft.cards()[-1])
    assert any(item.get("id") == "comment" for item in microsoft.cards()[-1]["body"])


def test_a_channel_message_gets_no_ticket_details(linked: User, post: Post, microsoft: Microsoft) -> None:
    activity = load("personal_message", microsoft, text="mes demandes")
    activity["conversation"] = {**activity["conversation"], "conversationType": "channel", "id": "19:abc@thread.tacv2"}
    post(activity)
    assert not microsoft.cards()
