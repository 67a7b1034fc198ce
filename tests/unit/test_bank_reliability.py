"""The sources' reliability rules as data (`trust`), enforced claim by claim; the quotes a patient sees
first (`show`); quotes that are headings or fragments; disputed regions; words the questions avoid.
Each gate with a failing example, and the real bank against each."""
from __future__ import annotations

import pytest
import yaml

from quiz.bank import load_bank
from tests.bankfiles import SOURCE, module_file, problems_for, question, write

REVIEW = {"reviewed_on": "2026-11-01", "reviewed_by_role": "clinical educator"}
LOW = "004_820e696d0642740e.txt"  # trust: low in the real sources.yaml
STANDARD = SOURCE  # 003, trust: standard
NEVER_DOUBLE_003 = "Missing a dose can reduce effectiveness, but never double a dose to make up for a missed one."
NEVER_TWO_004 = "Never take two doses at once."
WHEN_REMEMBER_004 = "Take the missed dose as soon as you remember, unless it's almost time for your next dose."
STOP_003 = "Never stop baclofen suddenly."


def cite(source, quote, supports=None, show=None):
    citation = {"source": source, "quote": quote}
    if supports is not None:
        citation["supports"] = supports
    if show is not None:
        citation["show"] = show
    return citation


def reviewed(qid, **changes):
    return question(qid, **REVIEW, **changes)


def load_one(bank_dir, q):
    """Load a module of `q` and a plain second question (critical key points need two)."""
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), q]))
    return load_bank(bank_dir)


def problems_of(bank_dir, q):
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), q]))
    return problems_for(bank_dir)


def edit_sources(bank_dir, change):
    path = bank_dir / "sources" / "sources.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change({entry["file"]: entry for entry in data["sources"]})
    write(bank_dir / "sources", "sources.yaml", data)


# --- trust is data ----------------------------------------------------------------------------------

def test_the_real_sources_state_their_trust(bank):
    trust = {name: source.trust for name, source in bank.sources.items()}
    assert trust == {"000_74d3c6befc6a713e.txt": "standard", "001_37710410761a5da8.txt": "low",
                     "002_6babfae627dde4aa.txt": "standard", "003_cc7d42d20a1fa13c.txt": "standard",
                     "004_820e696d0642740e.txt": "low"}


@pytest.mark.parametrize("change, message", [
    (lambda e: e[LOW].pop("trust"), "'trust' is missing"),
    (lambda e: e[LOW].update(trust="medium"), "'trust' must be one of standard, low, got 'medium'"),
])
def test_trust_must_be_stated(bank_dir, change, message):
    edit_sources(bank_dir, change)
    write(bank_dir, "stopping.yaml", module_file())
    assert any(message in p for p in problems_for(bank_dir))


# --- claims: every claim of a low-trust source also has a standard one ------------------------------

def test_the_reviewers_missed_dose_case_is_refused(bank_dir):
    """The question as a whole has a standard source, but the "when you remember" claim rests on 004
    alone (issue 10 item 8)."""
    q = reviewed("q-two", claims={"when-remember": "Take a missed dose when you remember.",
                                  "never-double": "Never take two doses at once."},
                 citations=[cite(LOW, WHEN_REMEMBER_004, ["when-remember"]),
                            cite(LOW, NEVER_TWO_004, ["never-double"]),
                            cite(STANDARD, NEVER_DOUBLE_003, ["never-double"], show=True)])
    problems = problems_of(bank_dir, q)
    assert any("question 'q-two'" in p and "claim 'when-remember' rests on a low-trust source alone "
               f"({LOW})" in p for p in problems), problems
    assert not any("claim 'never-double'" in p for p in problems)


def test_a_low_trust_claim_backed_by_a_standard_source_loads(bank_dir):
    q = reviewed("q-two", claims={"never-double": "Never take two doses at once."},
                 citations=[cite(LOW, NEVER_TWO_004, ["never-double"]),
                            cite(STANDARD, NEVER_DOUBLE_003, ["never-double"], show=True)])
    spec = load_one(bank_dir, q).questions[1]
    assert [c.supports for c in spec.citations] == [("never-double",), ("never-double",)]
    assert [claim.id for claim in spec.claims] == ["never-double"]


def test_a_low_trust_source_cited_without_claims_is_refused(bank_dir):
    q = reviewed("q-two", citations=[cite(LOW, NEVER_TWO_004), cite(STANDARD, NEVER_DOUBLE_003, show=True)])
    assert any("question 'q-two'" in p and f"cites {LOW} (low trust) but lists no 'claims'" in p
               for p in problems_of(bank_dir, q))


@pytest.mark.parametrize("claims, citations, message", [
    ({"stop": "Never stop suddenly."}, [cite(STANDARD, STOP_003, show=True)],
     "citation #1: 'supports' is missing: list the claims this quote backs (stop)"),
    ({"stop": "Never stop suddenly."}, [cite(STANDARD, STOP_003, ["stp"], show=True)],
     "'supports' names unknown claim(s) stp"),
    ({"stop": "Never stop suddenly."}, [cite(STANDARD, STOP_003, "stop", show=True)],
     "'supports' must be a list of claim ids"),
    (None, [cite(STANDARD, STOP_003, ["stop"], show=True)],
     "'supports' names claims, but the question lists no 'claims'"),
    ({"stop": "Never stop suddenly.", "taper": "The doctor lowers the dose slowly."},
     [cite(STANDARD, STOP_003, ["stop"], show=True)], "claim 'taper' is supported by no citation"),
    ({"Stop Now": "Never stop suddenly."}, [cite(STANDARD, STOP_003, show=True)],
     "claim id 'Stop Now' must be lowercase words"),
    ({"stop": " "}, [cite(STANDARD, STOP_003, show=True)], "claim 'stop' must be a sentence"),
    (["stop"], [cite(STANDARD, STOP_003, show=True)], "'claims' must map claim ids"),
])
def test_bad_claims_are_refused(bank_dir, claims, citations, message):
    q = reviewed("q-two", citations=citations)
    if claims is not None:
        q["claims"] = claims
    problems = problems_of(bank_dir, q)
    assert any("question 'q-two'" in p and message in p for p in problems), problems


def test_claims_are_not_content(bank_dir):
    """Claims are evidence for reviewers: adding them changes no fingerprint, so no new version."""
    plain = reviewed("q-two", citations=[cite(STANDARD, STOP_003, show=True)])
    before = load_one(bank_dir, plain).questions[1].fingerprint
    claimed = reviewed("q-two", claims={"stop": "Never stop suddenly."},
                       citations=[cite(STANDARD, STOP_003, ["stop"], show=True)])
    assert load_one(bank_dir, claimed).questions[1].fingerprint == before


def test_every_real_question_maps_its_citations_to_claims(bank):
    for q in bank.questions:
        assert q.claims, q.id
        assert all(c.supports for c in q.citations), q.id


def test_no_real_claim_rests_on_a_low_trust_source_alone(bank):
    for q in bank.questions:
        for claim in q.claims:
            trusts = {bank.sources[c.source].trust for c in q.citations if claim.id in c.supports}
            assert "standard" in trusts, (q.id, claim.id)


def test_the_real_bank_no_longer_teaches_the_004_only_missed_dose_rule(bank):
    quotes = {c.quote for q in bank.questions for c in q.citations}
    assert WHEN_REMEMBER_004 not in quotes
    assert "dose-missed-morning-lunch" not in {q.id for q in bank.questions}


# --- the quotes a patient sees first ----------------------------------------------------------------

def test_a_served_question_without_a_shown_quote_is_refused(bank_dir):
    q = reviewed("q-two", citations=[cite(STANDARD, STOP_003)])
    assert any("question 'q-two'" in p and "no quote is marked 'show: true'" in p for p in problems_of(bank_dir, q))


def test_a_draft_may_have_no_shown_quote_yet(bank_dir):
    q = question("q-two", citations=[cite(STANDARD, STOP_003)])
    assert load_one(bank_dir, q).questions[1].is_draft


def test_more_than_two_shown_quotes_are_refused(bank_dir):
    q = reviewed("q-two", citations=[cite(STANDARD, STOP_003, show=True),
                                     cite(STANDARD, "Withdrawal symptoms can be severe.", show=True),
                                     cite(STANDARD, NEVER_DOUBLE_003, show=True)])
    assert any("3 quotes are marked 'show: true'; a patient sees at most 2" in p for p in problems_of(bank_dir, q))


def test_a_shown_low_trust_quote_must_sit_beside_a_shown_standard_one(bank_dir):
    claims = {"never-double": "Never take two doses at once."}
    alone = reviewed("q-two", claims=claims, citations=[cite(LOW, NEVER_TWO_004, ["never-double"], show=True),
                                                         cite(STANDARD, NEVER_DOUBLE_003, ["never-double"])])
    assert any(f"the shown quote from {LOW} (a low-trust source) must sit beside a shown quote from a "
               "standard source" in p for p in problems_of(bank_dir, alone))
    beside = reviewed("q-two", claims=claims, citations=[cite(LOW, NEVER_TWO_004, ["never-double"], show=True),
                                                          cite(STANDARD, NEVER_DOUBLE_003, ["never-double"], show=True)])
    assert len([c for c in load_one(bank_dir, beside).questions[1].citations if c.show]) == 2


@pytest.mark.parametrize("source, quote, message", [
    (STANDARD, "never double a dose to make up for a missed one", "is not a whole sentence"),
    (STANDARD, "Other CNS depressants: Opioids, sleeping pills, or medications for anxiety or seizures can worsen "
               "drowsiness", "is not a whole sentence"),
    (LOW, "**Seizures:**  Sudden, uncontrolled electrical activity in the brain.", "contains Markdown markup"),
])
def test_a_shown_quote_is_a_whole_sentence_without_markup(bank_dir, source, quote, message):
    q = reviewed("q-two", claims={"c": "A claim."},
                 citations=[cite(source, quote, ["c"], show=True), cite(STANDARD, STOP_003, ["c"], show=True)])
    problems = problems_of(bank_dir, q)
    assert any("citation #1: the quote shown to patients" in p and message in p for p in problems), problems


def test_every_served_real_question_shows_one_or_two_plain_quotes(bank):
    for q in bank.questions:
        shown = [c for c in q.citations if c.show]
        if not q.is_draft:
            assert 1 <= len(shown) <= 2, q.id
        for c in shown:
            assert "*" not in c.quote and "#" not in c.quote and c.quote[-1] in ".!?", (q.id, c.quote)


def test_a_shown_quote_with_a_word_the_questions_avoid_is_a_warning(bank_dir):
    write(bank_dir, "vocabulary.yaml", {"familiar_words": {"baclofen": "the medicine"},
                                        "jargon": {"spasticity": "stiff muscles"}})
    quote = ("One serious issue is withdrawal: stopping baclofen suddenly can cause rapid return of spasticity, "
             "hallucinations, high fever, or seizures.")
    q = reviewed("q-two", citations=[{"source": "000_74d3c6befc6a713e.txt", "quote": quote, "show": True}])
    warnings = [str(w) for w in load_one(bank_dir, q).warnings]
    assert any("question 'q-two': a quote shown to patients uses words the questions avoid (spasticity" in w
               for w in warnings), warnings


def test_jargon_must_say_what_the_bank_says_instead(bank_dir):
    write(bank_dir, "vocabulary.yaml", {"familiar_words": {"baclofen": "the medicine"}, "jargon": ["spasticity"]})
    write(bank_dir, "stopping.yaml", module_file())
    assert any("'jargon' must map each word to the plain words the bank uses instead" in p
               for p in problems_for(bank_dir))


def test_no_real_shown_quote_uses_jargon(bank):
    assert not [w for w in bank.warnings if "words the questions avoid" in w.message]


# --- headings and fragments -------------------------------------------------------------------------

@pytest.mark.parametrize("quote, message", [
    ("Tell your doctor if you have a history of:", "is a heading or lead-in (ends with ':')"),
    ("Less common but more serious side effects include:", "is a heading or lead-in"),
    ("Kidney disease", "is a fragment of 2 word(s)"),
    ("Confusion or hallucinations", "is a fragment of 3 word(s)"),
    ("Fever or signs of infection", "is a list item without its lead-in"),
])
def test_headings_and_fragments_are_refused(bank_dir, quote, message):
    source = LOW if quote.endswith("include:") else STANDARD
    q = reviewed("q-two", citations=[cite(STANDARD, STOP_003, show=True), cite(source, quote)])
    if source == LOW:
        q["claims"] = {"c": "A claim."}
        q["citations"] = [cite(STANDARD, STOP_003, ["c"], show=True), cite(source, quote, ["c"])]
    problems = problems_of(bank_dir, q)
    assert any("question 'q-two': citation #2" in p and message in p for p in problems), problems


def test_a_list_item_quoted_with_its_lead_in_is_fine(bank_dir):
    quote = "Less common but serious side effects may include: • Severe drowsiness or trouble breathing"
    q = reviewed("q-two", citations=[cite(STANDARD, STOP_003, show=True), cite(STANDARD, quote)])
    assert load_one(bank_dir, q).questions[1].citations[1].quote == quote


# --- disputed regions -------------------------------------------------------------------------------

def test_a_disputed_region_needs_an_end(bank_dir):
    edit_sources(bank_dir, lambda e: e[STANDARD].update(disputed=[{"starts": "Do not crush", "note": "n"}]))
    write(bank_dir, "stopping.yaml", module_file())
    assert any("disputed region #1: 'ends' is missing" in p for p in problems_for(bank_dir))


def test_regions_may_not_overlap(bank_dir):
    edit_sources(bank_dir, lambda e: e[STANDARD].update(disputed=[
        {"starts": "Patient Experiences and Ratings", "ends": "Lioresal", "note": "n"}]))
    write(bank_dir, "stopping.yaml", module_file())
    assert any("the disputed region 'Patient Experiences and Ratings" in p and "overlaps the unrelated region" in p
               for p in problems_for(bank_dir))


@pytest.mark.parametrize("source, passage", [
    ("001_37710410761a5da8.txt", "making it similar to pregabalin."),
    ("001_37710410761a5da8.txt", "Children under twelve years old cannot take this medication."),
    ("001_37710410761a5da8.txt", "Seizures, breathing difficulties, blurred vision, and muscle pain may be signs of an overdose."),
    ("001_37710410761a5da8.txt", "This prescription medication was initially marketed to treat epilepsy."),
    ("003_cc7d42d20a1fa13c.txt", "Do not crush or chew unless directed."),
    ("003_cc7d42d20a1fa13c.txt", "Can be used in certain cases of Parkinson’s disease or stroke-related spasticity."),
    ("000_74d3c6befc6a713e.txt", "Typical maintenance doses range from about 15 mg to 80 mg per day"),
    ("002_6babfae627dde4aa.txt", "Some also use it off‑label for chronic back pain"),
    ("004_820e696d0642740e.txt", "**Can I drink alcohol while taking Baclofen?**  No."),
])
def test_the_real_sources_mark_what_the_clinical_brief_calls_wrong(bank, source, passage):
    text = bank.sources[source].text
    start = text.index(passage)
    assert bank.sources[source].disputed_region_at(start, start + len(passage)) is not None


def test_the_online_pharmacy_sales_close_is_unrelated(bank):
    """Issue 10 item 7: 'Talk to your healthcare provider about the right plan' closes 002's sales
    paragraph and must not be cited for alcohol."""
    source = bank.sources["002_6babfae627dde4aa.txt"]
    start = source.text.index("Talk to your healthcare provider about the right plan")
    assert source.unrelated_region_at(start, start + 10) is not None


def test_what_the_real_bank_cites_next_to_a_disputed_region_stays_citable(bank):
    """The regions are cut to the wrong passage: the consistent claims beside them stay citable."""
    for source, quote in [("000_74d3c6befc6a713e.txt", "uses much smaller doses than oral tablets"),
                          ("002_6babfae627dde4aa.txt", "others need up to 80 mg split across several doses"),
                          ("001_37710410761a5da8.txt", "In addition, it has not been studied in patients who are "
                                                       "pregnant or breastfeeding.")]:
        assert any(c.source == source and c.quote == quote for q in bank.questions for c in q.citations), quote
