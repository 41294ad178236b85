import pytest

from ingest.cleaning import clean, furniture_rule
from tests.conftest import CEO_DOC, CORPUS, HR_DOC


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        (
            "This site uses cookies to offer you a better browsing experience. By browsing this "
            "website, you agree to our use of cookies.",
            "cookie notice",
        ),
        ("We use cookies.", "cookie notice"),
        ("Manage cookie preferences", "cookie notice"),
        ("Get In Touch.", "contact prompt"),
        ("We welcome connection. Please don’t hesitate to get in touch.", "contact prompt"),
        ("Contact us", "contact prompt"),
        ("Stay in the know.", "newsletter prompt"),
        ("Subscribe to our newsletter.", "newsletter prompt"),
        ("Sign up for the newsletter!", "newsletter prompt"),
        ("Share this article", "share prompt"),
        ("Would you like an Instagram or LinkedIn post based on this summary?", "assistant offer"),
        ("Would you like me to turn this into a short email for your team?", "assistant offer"),
        ("Do you want a shorter version of this summary?", "assistant offer"),
        ("Let me know if you'd like a different tone.", "assistant offer"),
    ],
)
def test_each_rule_catches_its_furniture(line: str, rule: str) -> None:
    assert furniture_rule(line) == rule
    assert line.strip() not in clean(f"Real content here.\n{line}\nMore content.").text


@pytest.mark.parametrize(
    "line",
    [
        "The HR team also initiated a more creative way to connect people.",
        "Wu acknowledged that AI is the next major battleground for global tech companies.",
        "Would you like to know why the company split into six units? Read on.",  # no offer of a post
        "Staff were asked to stay in touch with colleagues in Hubei through daily calls, "
        "and managers reported back each evening.",
        # Long content that mentions cookies is an article about cookies, not a notice.
        "The regulator's report explains at length how advertising networks use cookies to follow "
        "shoppers across sites, why browsers began blocking third-party tracking by default, what "
        "that means for small merchants who relied on retargeting, and which consent designs the "
        "regulator considers misleading when a visitor is asked to accept them before reading any "
        "article at all.",
    ],
)
def test_content_is_kept(line: str) -> None:
    assert furniture_rule(line) is None
    assert line in clean(line).text


def test_a_line_printed_twice_in_a_row_is_kept_once() -> None:
    text = "Heading\n\nVideo messages from employees\nVideo messages from employees\n\nBody text."
    cleaned = clean(text)
    assert cleaned.text.count("Video messages from employees") == 1
    assert ("repeated line", "Video messages from employees") in cleaned.removed


def test_whitespace_is_normalised() -> None:
    cleaned = clean("Title\r\n\r\n\r\n\r\nA\u00a0sentence.   \n\n\n\nEnd.\ufeff")
    assert cleaned.text == "Title\n\nA sentence.\n\nEnd."


def test_seed_documents_lose_their_furniture_and_keep_their_content() -> None:
    ceo = clean((CORPUS / CEO_DOC).read_text(encoding="utf-8"))
    hr = clean((CORPUS / HR_DOC).read_text(encoding="utf-8"))
    for furniture in ("Instagram", "LinkedIn post", "uses cookies", "Get In Touch", "newsletter",
                      "Stay in the know", "hesitate to get in touch"):  # fmt: skip
        assert furniture not in ceo.text and furniture not in hr.text
    assert {rule for rule, _ in ceo.removed} == {"assistant offer"}
    assert {rule for rule, _ in hr.removed} >= {"cookie notice", "contact prompt", "newsletter prompt",
                                               "repeated line"}  # fmt: skip
    assert "Tongyi Qianwen" in ceo.text and ceo.text.endswith("vision and values.")
    assert "DingTalk" in hr.text and "January 23rd" in hr.text
