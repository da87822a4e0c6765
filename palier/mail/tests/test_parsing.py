"""Parsing real-world shaped messages: headers, charsets, bodies, attachments, automatic mail."""

from __future__ import annotations

import base64

from palier.mail.parsing import decode_header_value, parse_message
from palier.mail.replies import split_reply


def msg(headers: str, body: str = "Hello", *, extra: bytes = b"") -> bytes:
    return (headers.strip() + "\r\n\r\n" + body).encode("utf-8") + extra


def test_rfc2047_subject_and_sender_are_decoded_and_lower_cased() -> None:
    parsed = parse_message(
        msg(
            "From: =?utf-8?q?L=C3=A9a_Dupr=C3=A9?= <Lea.Dupre@Example.FR>\n"
            "To: desk@palier.test, Bob <BOB@x.test>\nCc: c@x.test\n"
            "Subject: =?iso-8859-1?q?Imprimante_bloqu=E9e?= =?utf-8?b?IMOgIGzigJnDqXRhZ2U=?=\n"
            "Message-ID: <abc@x.test>\nIn-Reply-To: <p1@x.test>\nReferences: <p0@x.test> <p1@x.test>"
        )
    )
    assert parsed.from_ is not None
    assert (parsed.from_.name, parsed.from_.email) == ("Léa Dupré", "lea.dupre@example.fr")
    assert parsed.subject == "Imprimante bloquée à l’étage"
    assert [a.email for a in parsed.to] == ["desk@palier.test", "bob@x.test"]
    assert [a.email for a in parsed.cc] == ["c@x.test"]
    assert parsed.message_id == "abc@x.test"
    assert parsed.references_all == ["p1@x.test", "p0@x.test"]


def test_mislabelled_and_unknown_charsets_never_raise() -> None:
    gbk = base64.b64encode("绩效管理".encode("gb18030")).decode()
    assert decode_header_value(f"=?GB2312?B?{gbk}?=") == "绩效管理"
    korean = base64.b64encode("안녕하세요".encode("cp949")).decode()
    assert decode_header_value(f"=?ks_c_5601-1987?B?{korean}?=") == "안녕하세요"
    assert decode_header_value("=?x-no-such-charset?q?caf=C3=A9?=") == "café"
    assert decode_header_value("=?x-no-such-charset?q?caf=E9?=") == "café"
    assert decode_header_value("=?utf-8?b?broken base64?=")  # kept as written, no exception


def test_8bit_headers_and_body_with_a_wrong_charset() -> None:
    raw = (
        b"From: =?utf-8?q?Ren=C3=A9?= <r@x.test>\r\nSubject: R\xe9union d\xe9plac\xe9e\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\nLa r\xe9union est d\xe9plac\xe9e."
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Réunion déplacée"
    assert parsed.text == "La réunion est déplacée."


def test_multipart_alternative_keeps_text_and_sanitises_html() -> None:
    raw = msg(
        'From: a@x.test\nSubject: s\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b"',
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain text\r\n"
        "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        '<p onclick="x()">Rich <b>text</b></p><script>alert(1)</script>\r\n--b--\r\n',
    )
    parsed = parse_message(raw)
    assert parsed.text.strip() == "Plain text"
    assert "<b>text</b>" in parsed.html
    assert "script" not in parsed.html and "onclick" not in parsed.html
    assert parsed.content_type == "text/html"


def test_html_only_message_becomes_text() -> None:
    raw = msg(
        "From: a@x.test\nSubject: s\nContent-Type: text/html; charset=utf-8",
        "<html><head><style>p{}</style></head><body><p>Bonjour</p><p>Merci<br>Léa</p></body></html>",
    )
    assert parse_message(raw).text == "Bonjour\n\nMerci\nLéa"


def test_attachments_rfc2231_names_and_inline_images() -> None:
    pdf = base64.b64encode(b"%PDF-1.4 test").decode()
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nxx").decode()
    raw = msg(
        'From: a@x.test\nSubject: s\nContent-Type: multipart/mixed; boundary="m"',
        '--m\r\nContent-Type: multipart/related; boundary="r"\r\n\r\n'
        '--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See <img src="cid:img1@x"></p>\r\n'
        "--r\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{png}\r\n--r--\r\n"
        "--m\r\nContent-Type: application/pdf\r\n"
        "Content-Disposition: attachment; filename*=utf-8''facture%20d%C3%A9cembre.pdf\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{pdf}\r\n--m--\r\n",
    )
    parsed = parse_message(raw)
    inline, pdf_file = parsed.attachments
    assert (inline.inline, inline.content_id, inline.content_type) == (True, "img1@x", "image/png")
    assert (pdf_file.filename, pdf_file.content, pdf_file.inline) == ("facture décembre.pdf", b"%PDF-1.4 test", False)
    assert 'src="cid:img1@x"' in parsed.html


def test_forwarded_message_is_kept_as_an_eml_attachment() -> None:
    raw = msg(
        'From: a@x.test\nSubject: Fwd: panne\nContent-Type: multipart/mixed; boundary="m"',
        "--m\r\nContent-Type: text/plain\r\n\r\nVoir ci-dessous\r\n"
        "--m\r\nContent-Type: message/rfc822\r\n\r\nFrom: b@y.test\r\nSubject: Panne/serveur\r\n\r\nLe serveur est tombé\r\n"
        "--m--\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.text.strip() == "Voir ci-dessous"
    (forwarded,) = parsed.attachments
    assert forwarded.filename == "Panne_serveur.eml"
    assert b"Le serveur" in forwarded.content


def test_auto_reply_headers_and_french_out_of_office() -> None:
    cases = [
        "Auto-Submitted: auto-replied\nSubject: Re: ticket",
        "X-Autoreply: yes\nSubject: Re: ticket",
        "X-Autorespond: yes\nSubject: Re: ticket",
        "X-Auto-Response-Suppress: All\nSubject: Re: ticket",
        "Precedence: bulk\nSubject: news",
        "Subject: Réponse automatique : Absent du bureau",
        "Subject: =?utf-8?q?R=C3=A9ponse_automatique=C2=A0:_Imprimante?=",
        "Subject: Absence du 2 au 9",
        "Subject: Out of Office: printer",
        "Subject: Automatic reply: printer",
    ]
    for headers in cases:
        parsed = parse_message(msg(f"From: someone@x.test\n{headers}"))
        assert parsed.is_auto_reply and not parsed.is_bounce, headers
    for subject in ("Absence de réseau au 2e étage", "Absences des agents en mai ?"):
        assert not parse_message(msg(f"From: someone@x.test\nSubject: {subject}")).is_automatic, subject
    plain = parse_message(msg("From: someone@x.test\nAuto-Submitted: no\nSubject: Mon imprimante"))
    assert not plain.is_automatic


def test_bounce_is_separated_from_auto_reply_and_names_the_original() -> None:
    raw = msg(
        "From: MAILER-DAEMON@mx.test (Mail Delivery System)\nSubject: Undelivered Mail Returned to Sender\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
        "--r\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.test\r\n\r\n"
        "Final-Recipient: rfc822; gone@x.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <notif-42@palier.test>\r\nSubject: [INC-7]\r\n"
        "--r--\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.is_bounce and not parsed.is_auto_reply
    assert parsed.bounced_message_id == "notif-42@palier.test"


def test_malformed_and_huge_messages_never_raise() -> None:
    for raw in [
        b"",
        b"\x00\xff\xfe garbage",
        b"From: <<<>>>\r\nSubject: =?utf-8?q?\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n--\r\n",
        b"Subject: x\r\n" * 5000 + b"\r\nbody",
        b"From: a@x.test\r\n\r\n" + b"A" * 3_000_000,
    ]:
        parsed = parse_message(raw)
        assert len(parsed.text) <= 1_000_000


def test_split_reply_french_outlook_and_gmail() -> None:
    french = "Merci, c'est réparé.\n\nLe lun. 3 mars 2025 à 10:02, Support <desk@palier.test> a écrit :\n> Bonjour"
    assert split_reply(french)[0] == "Merci, c'est réparé."
    outlook = (
        "Toujours en panne.\n\nDe : Support <desk@palier.test>\nEnvoyé : lundi 3 mars 2025 10:02\n"
        "À : Léa\nObjet : [INC-4] Imprimante\n\nBonjour Léa"
    )
    reply, quoted = split_reply(outlook)
    assert reply == "Toujours en panne."
    assert "Bonjour Léa" in quoted
    gmail = "Works now\n\nOn Mon, Mar 3, 2025 at 10:02 AM Support <desk@palier.test> wrote:\n> Hello"
    assert split_reply(gmail)[0] == "Works now"
    assert split_reply("Just text, no quote") == ("Just text, no quote", "")
