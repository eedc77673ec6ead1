"""
test_french.py - a message read as French gets the desk's fixed lines in French

The router reads the language with the emergency rules (em_match.lang) and
passes it on: out of scope, "internal information" refusals and questions
back are said in French to a French message, in English otherwise; a
French customer who asks for a person by text is handed to the team.
(SOP answers are the SOPs' own text; the generative tier, when on, answers
in the customer's language: test_llm.py.)
"""

import harness


def test_out_of_scope_in_french_is_answered_in_french(stack, accounts):
    tok = accounts["customer"].token
    a = harness.assert_answer(stack.query(tok, "est-ce qu'il va neiger en fin de semaine?",
                                          channel="web"))
    assert a["sop"] is None and a["escalation"]["reason"] == "out_of_scope", a
    assert a["response"].startswith("Désolé"), a["response"]
    en = harness.assert_answer(stack.query(tok, "is it going to snow this weekend?",
                                           channel="web"))
    assert en["sop"] is None and en["response"].startswith("Sorry"), en


def test_internal_figures_asked_in_french_are_refused_in_french(stack, accounts):
    a = harness.assert_answer(stack.query(accounts["customer"].token,
                                          "c'est quoi vos revenus du mois à harbourview?",
                                          channel="web"))
    assert a["sop"] is None and a["escalation"]["reason"] == "restricted", a
    assert a["response"].startswith("C'est une information interne"), a["response"]
