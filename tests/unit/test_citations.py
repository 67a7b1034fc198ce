from quiz.bank.citations import NormalisedText, find_quote, normalise

SOURCE = "Don\u2019t stop \u2014 ever.\nTake it\u00a0 with  food.  Say \u201chi\u201d."


def test_exact_quote_is_found_at_its_original_offsets():
    start, end = find_quote(SOURCE, "Take it\u00a0 with  food.")
    assert SOURCE[start:end] == "Take it\u00a0 with  food."


def test_whitespace_runs_and_line_breaks_fold_to_one_space():
    start, end = find_quote(SOURCE, "ever. Take it with food.")
    assert SOURCE[start:end] == "ever.\nTake it\u00a0 with  food."


def test_typographic_quotes_and_dashes_fold_to_ascii():
    assert find_quote(SOURCE, "Don't stop - ever.") is not None
    assert find_quote(SOURCE, 'Say "hi".') is not None


def test_ascii_in_source_matches_typographic_in_quote():
    assert find_quote("It's 5-10 mg", "It\u2019s 5\u201310 mg") == (0, 12)


def test_case_and_other_punctuation_are_not_folded():
    assert find_quote(SOURCE, "don't stop - ever.") is None
    assert find_quote(SOURCE, "Take it with food!") is None
    assert find_quote("**Can I drink?**  No.", "Can I drink? No.") is None
    assert find_quote("**Can I drink?**  No.", "**Can I drink?** No.") is not None


def test_words_must_not_be_joined_or_split():
    assert find_quote(SOURCE, "Takeit with food.") is None


def test_empty_or_blank_quote_never_matches():
    assert find_quote(SOURCE, "") is None
    assert find_quote(SOURCE, "   \n") is None


def test_surrounding_whitespace_of_the_quote_is_ignored():
    assert find_quote(SOURCE, "  Take it with food.\n") is not None


def test_normalised_text_keeps_an_offset_per_character():
    folded = NormalisedText.of("a \u00a0b\u2014c")
    assert folded.text == "a b-c"
    assert len(folded.offsets) == len(folded.text)
    assert normalise(" a \u00a0b\u2014c ") == "a b-c"


def test_real_source_with_non_breaking_hyphen(bank):
    text = bank.sources["002_6babfae627dde4aa.txt"].text
    assert "\u2011" in text  # the seed really uses non-ASCII hyphens
    assert find_quote(text, "spinal-cord injuries") is not None
