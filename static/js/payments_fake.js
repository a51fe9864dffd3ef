// The fake payment provider's browser side: tokenizes the demo test cards (evently/payments.py).
// A real provider's script (its hosted fields and tokenizer) registers the same interface:
//   window.eventlyPayments = { name, tokenize(card) → Promise<{token} | {error, field?}> }
// where card = {number, expMonth, expYear, cvc, holder}. Nothing here talks to Evently's server.
"use strict";

(() => {
  const TEST_CARDS = {
    "4242424242424242": "tok_ok",
    "4000000000000002": "tok_declined",
    "4000000000009995": "tok_insufficient_funds",
    "4000000000000119": "tok_timeout",
  };
  window.eventlyPayments = {
    name: "fake",
    tokenize(card) {
      // Like a provider's round trip: a short wait, then a token. Any other valid card pays.
      return new Promise((resolve) => setTimeout(() => resolve({ token: TEST_CARDS[card.number] || "tok_ok" }), 150));
    },
  };
})();
