"""Real-world formats for core.redact: what must be masked (with the mask it gets) and what
must be left alone. Cards are the networks' published test numbers; keys are made up in the
issuers' documented shapes (prefix, alphabet, length), never real credentials.

A positive is (text, secret, mask): `redact(text)` must equal the text with that secret, and
nothing else, replaced by the mask. A negative is text `redact` must return unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Positive:
    text: str
    secret: str
    mask: str

    @property
    def kind(self) -> str:
        return self.mask.strip("[]")


def _p(mask: str, secret: str, template: str = "see {} here") -> Positive:
    return Positive(template.format(secret), secret, mask)


EMAILS = [
    _p("[email]", s, t)
    for s, t in [
        ("jane.doe+tag@example.co.uk", "mail {} please"),
        ("josé.garcía@ejemplo.es", "escríbeme a {}"),
        ("müller@bücher.de", "Kontakt: {}"),
        ("françois@société.fr", "écrire à {}."),
        ("o'brien@example.ie", "from {}"),
        ("user_name@sub.domain.example.com", "<{}>"),
        ("ZOE@EXAMPLE.ORG", "cc {}"),
        ("a.b-c@example.io", "reply to {}"),
        ("用户@例子.广告", "邮箱 {}"),
        ("first.last@company.technology", "{} wrote:"),
    ]
]
CARDS = [
    _p("[card]", s, t)
    for s, t in [
        ("4111 1111 1111 1111", "card {} expired"),
        ("4111-1111-1111-1111", "paid with {}"),
        ("4111.1111.1111.1111", "card no {}"),
        ("4242424242424242", "{}"),
        ("5555 5555 5555 4444", "mc {} ok"),
        ("5105-1051-0510-5100", "mc {}"),
        ("3782 822463 10005", "amex {}"),
        ("371449635398431", "amex {}"),
        ("6011 1111 1111 1117", "discover {}"),
        ("3530.1113.3330.0000", "jcb {}"),
        ("3056 930902 5904", "diners {}"),
        ("4000 0566 5566 5556", "debit {} declined"),
        ("4111 1111 1111 1111", "{} 123"),  # a CVV after it
        ("4242 4242 4242 4242", "order 12 {}"),  # a number before it
        ("5555-5555-5555-4444", "{} 12/28"),
        ("4111111111111111", "cards {} and 1234"),
        ("4000.0025.0000.3155", "3ds {}"),
    ]
]
PHONES = [
    _p("[phone]", s, t)
    for s, t in [
        ("+44 20 7946 0958", "call {} now"),
        ("+1 (415) 555-2671", "phone {}"),
        ("415-555-2671", "cell: {}"),
        ("(212) 555-0199", "office {}"),
        ("+33 1 23 45 67 89", "tél {}"),
        ("020 7946 0958", "ring {}"),
        ("+49 30 901820", "Tel. {}"),
        ("+91 98765 43210", "whatsapp {}"),
        ("555.123.4567", "text {}"),
        ("+61 2 9374 4000", "sydney {}"),
        ("06 12 34 56 78", "portable {}"),
        ("+1-800-555-0199", "toll free {}"),
        ("07700 900123", "mobile: {}"),
        ("+1 415 555 2671", "us {}"),
        ("+353 1 234 5678", "dublin {}"),
    ]
]
IPS = [
    _p("[ip]", s, t)
    for s, t in [
        ("192.168.10.24", "from {} today"),
        ("10.0.0.255", "host {}"),
        ("8.8.8.8", "dns {}"),
        ("2001:db8::1", "from {} today"),
        ("::1", "localhost {}"),
        ("fe80::1ff:fe23:4567:890a", "link-local {}"),
        ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "full {}"),
        ("::ffff:192.0.2.128", "mapped {}"),
        ("2a00:1450:4007:80e::200e", "google {}"),
        ("fe80::1%eth0", "zone {}"),
        ("172.16.254.1", "client ip: {}"),
    ]
]
IBANS = [
    _p("[iban]", s, t)
    for s, t in [
        ("DE89 3704 0044 0532 0130 00", "iban {} ok"),
        ("GB82WEST12345698765432", "pay {}"),
        ("FR14 2004 1010 0505 0001 3M02 606", "RIB {}"),
    ]
]
KEYS = [
    _p("[token]", s, t)
    for s, t in [
        ("sk_live_51HqLyjWDarjtT1zdp7dcXYZ0a1b2", "key {}"),
        ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", "stripe {}"),
        ("rk_live_51HqLyjWDarjtT1zdp7dcAbC", "restricted {}"),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "signing {}"),
        ("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", "github {}"),
        ("github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV012", "pat {}"),
        ("gho_16C7e42F292c6912E7710c838347Ae178B4a", "oauth {}"),
        ("glpat-xj4Bq9ZrT2aY7cLm3Nw8", "gitlab {}"),
        ("AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "google {}"),
        ("hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh", "hugging face {}"),
        ("hf_jTnWqXpLmRsKvYzAbCdEfGh1234567890", "token={}"),
        ("xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy", "slack {}"),
        ("xoxp-4956863432-4956863436-4993473290-2a8c1b0e", "slack user {}"),
        ("AKIAIOSFODNN7EXAMPLE", "aws {}"),
        ("ASIAY34FZKBOKMUTVV7A", "sts {}"),
        ("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "openai {}"),
        ("sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH", "openai {}"),
        ("sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAA", "anthropic {}"),
        ("npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "npm {}"),
        ("pypi-AgEIcHlwaS5vcmcCJDUyYjE0ZjQ4", "pypi {}"),
        ("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", "sg {}"),
        ("dop_v1_4f7c0a1b2c3d4e5f60718293a4b5c6d7e8f9", "do {}"),
        ("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", "shopify {}"),
        ("phc_AbCdEf0123456789GhIjKl", "posthog {}"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sflKxwRJSMeKKF2QT4fwpM", "jwt {}"),
    ]
]
POSITIVES = EMAILS + CARDS + PHONES + IPS + IBANS + KEYS

NEGATIVES = [
    # Numbers that are not phones or cards.
    "Order 555-0100-22 shipped",
    "order #4512-8873-19 is late",
    "Invoice 2024-0042-17 attached",
    "ticket 1234 5678 90 reopened",
    "tracking 1Z 999 AA1 01 2345 6784",
    "order 1234 5678 9012 3456 shipped",  # 16 digits that fail Luhn
    "ref 4111 1111 1111 1112",  # one digit off a test card
    "build 20261124.1 is out",
    "version 1.2.3.4000",
    "release 10.0.19045.3570",
    "2026-11-24",
    "24/11/2026",
    "at 12:30:45 UTC",
    "between 09:00 and 17:30",
    "total 1,234,567.89 EUR",
    "page 12 of 340",
    "ISBN 978-3-16-148410-0",
    "sku 12-3456-7890",
    "account no. 555 0100 22",
    "case 0042-1177",
    "confirmation 8837 2219",
    "zip 94103",
    "3.14159265358979",
    "score 999.1.1.1",
    "released 1999.12.31",
    "50% off for 3 months",
    "item 42 of 100 (x2)",
    # Addresses that are not IPs.
    "std::vector<int> v;",
    "Foo::Bar::baz()",
    "ratio 16:9",
    "sha 3a4f:9b2c",
    "version 1.2.3.4",
    "999.999.999.999",
    # Identifiers that start like keys.
    "sk-learn is a library",
    "the hf_hub_download helper",
    "pk_column_index was dropped",
    "task_list_item",
    "skip-navigation-link",
    "ghost_mode_enabled",
    "AKIA is a prefix",
    "npm_config_cache_dir",
    "sk_learn_pipeline_step",
    "see rk_metrics_dashboard",
    # Emails that are not, and text.
    "user@localhost",
    "@mention someone",
    "price@10",
    "a @ b",
    "Upgrade to Pro",
    "Clicked 'Export CSV' button in Reports",
    "Bearer of bad news",
    "the password field is empty",
    "DE is Germany, 89 is a number",
    "GB82 is a code",
    "Room 101, Floor 3",
    "Call of Duty 4",
    "Windows 10.0.22631",
    "1.5.0-beta.2",
    "lat 51.5072, lon -0.1276",
    "ID 12345678",
    "revenue 12 345 678 EUR",
    "uptime 99.95%",
    "from 1 to 100",
]
