// Checkout: card fields that behave like a payment provider's hosted fields (brand, Luhn, expiry,
// CVC, holder), then the provider's tokenize() (static/js/payments_*.js) and the form posts only the
// token. The Pay button shows the amount and is disabled while paying. No build step.
"use strict";

(() => {
  const form = document.getElementById("checkout-form");
  if (!form) return;
  const el = (id) => document.getElementById(id);
  const fields = { number: el("card-number"), expiry: el("card-expiry"), cvc: el("card-cvc"), holder: el("card-holder") };
  const tokenInput = form.querySelector('input[name="card"]');
  const pay = el("pay-button");
  const brandBadge = el("card-brand");
  const terms = el("id_terms");
  if (form.dataset.free === "true") { // a voucher covers the order: no card fields, only the terms
    form.addEventListener("submit", (event) => {
      if (terms && !terms.checked) {
        event.preventDefault();
        setError(terms, "Please accept the terms of sale and the privacy notice to continue.");
        terms.focus();
      } else if (pay.disabled) {
        event.preventDefault(); // no second submit while the first is on its way
      } else {
        pay.disabled = true;
      }
    });
    return;
  }

  const BRANDS = [
    { name: "amex", label: "Amex", pattern: /^3[47]/, lengths: [15], cvc: 4, groups: [4, 6, 5] },
    { name: "visa", label: "Visa", pattern: /^4/, lengths: [13, 16, 19], cvc: 3 },
    { name: "mastercard", label: "Mastercard", pattern: /^(5[1-5]|2[2-7])/, lengths: [16], cvc: 3 },
    { name: "discover", label: "Discover", pattern: /^(6011|65|64[4-9])/, lengths: [16, 19], cvc: 3 },
  ];
  const digits = (text) => text.replace(/\D/g, "");
  const brandOf = (number) => BRANDS.find((brand) => brand.pattern.test(number)) || null;

  function luhnValid(number) {
    let sum = 0;
    for (let i = 0; i < number.length; i += 1) {
      let digit = Number(number[number.length - 1 - i]);
      if (i % 2 === 1) { digit *= 2; if (digit > 9) digit -= 9; }
      sum += digit;
    }
    return number.length >= 12 && sum % 10 === 0;
  }

  function formatNumber(number, brand) {
    const groups = (brand && brand.groups) || [4, 4, 4, 4, 3];
    const parts = [];
    let at = 0;
    for (const size of groups) {
      if (at >= number.length) break;
      parts.push(number.slice(at, at + size));
      at += size;
    }
    return parts.join(" ");
  }

  // --- errors beside each field ----------------------------------------------------------------

  function setError(input, text) {
    const id = `${input.id}-error`;
    let node = el(id);
    if (!text) {
      if (node) node.remove();
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", (input.getAttribute("aria-describedby") || "").replace(id, "").trim());
      if (!input.getAttribute("aria-describedby")) input.removeAttribute("aria-describedby");
      return;
    }
    if (!node) {
      node = document.createElement("p");
      node.className = "field-error";
      node.id = id;
      node.setAttribute("role", "alert");
      if (input.type === "checkbox") input.parentElement.append(node);
      else (input.closest(".card-number-wrap") || input).insertAdjacentElement("afterend", node);
    }
    node.textContent = text;
    input.setAttribute("aria-invalid", "true");
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(id)) input.setAttribute("aria-describedby", [...described, id].join(" "));
  }

  // --- each field's check: the message, or "" when fine ------------------------------------------

  const checks = {
    number() {
      const number = digits(fields.number.value);
      if (!number) return "Enter your card number.";
      const brand = brandOf(number);
      if (brand && !brand.lengths.includes(number.length)) return `A ${brand.label} card number has ${brand.lengths.join(" or ")} digits.`;
      if (number.length < 12 || number.length > 19 || !luhnValid(number)) return "This card number is not valid. Please check it.";
      return "";
    },
    expiry() {
      const match = fields.expiry.value.replace(/\s/g, "").match(/^(\d{1,2})\/?(\d{2}|\d{4})$/);
      if (!fields.expiry.value.trim()) return "Enter the expiry date (MM / YY).";
      if (!match) return "Enter the expiry date as MM / YY.";
      const month = Number(match[1]);
      const year = Number(match[2].length === 2 ? `20${match[2]}` : match[2]);
      if (month < 1 || month > 12) return "The expiry month must be 01 to 12.";
      const now = new Date();
      if (year < now.getFullYear() || (year === now.getFullYear() && month < now.getMonth() + 1)) return "This card has expired.";
      if (year > now.getFullYear() + 20) return "The expiry year is too far in the future.";
      return "";
    },
    cvc() {
      const brand = brandOf(digits(fields.number.value));
      const length = brand ? brand.cvc : 3;
      const cvc = digits(fields.cvc.value);
      if (!cvc) return "Enter the security code from your card.";
      if (cvc.length !== length && !(brand === null && cvc.length === 4)) return `The security code has ${length} digits.`;
      return "";
    },
    holder() {
      return fields.holder.value.trim().length >= 2 ? "" : "Enter the name as it appears on the card.";
    },
  };

  // --- as the buyer types ------------------------------------------------------------------------

  fields.number.addEventListener("input", () => {
    const number = digits(fields.number.value).slice(0, 19);
    const brand = brandOf(number);
    fields.number.value = formatNumber(number, brand);
    brandBadge.dataset.brand = brand ? brand.name : "unknown";
    brandBadge.textContent = brand ? brand.label : "";
    fields.cvc.maxLength = brand ? brand.cvc : 4;
  });
  fields.expiry.addEventListener("input", (event) => {
    let value = digits(fields.expiry.value).slice(0, 4);
    if (value.length === 1 && Number(value) > 1) value = `0${value}`; // "4" → "04"
    const deleting = event.inputType && event.inputType.startsWith("delete");
    fields.expiry.value = value.length > 2 || (value.length === 2 && !deleting) ? `${value.slice(0, 2)} / ${value.slice(2)}` : value;
  });
  fields.cvc.addEventListener("input", () => { fields.cvc.value = digits(fields.cvc.value).slice(0, 4); });
  for (const [name, input] of Object.entries(fields)) {
    input.addEventListener("blur", () => { if (input.value) setError(input, checks[name]()); });
    input.addEventListener("input", () => { if (input.getAttribute("aria-invalid")) setError(input, checks[name]()); });
  }

  // --- paying -------------------------------------------------------------------------------------

  const payLabel = pay.textContent;
  function paying(isPaying) {
    pay.disabled = isPaying;
    pay.setAttribute("aria-busy", String(isPaying));
    pay.textContent = isPaying ? `Paying ${pay.dataset.amount}…` : payLabel;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (pay.disabled) return; // no second payment while the first is on its way
    let firstBad = null;
    for (const [name, input] of Object.entries(fields)) {
      const message = checks[name]();
      setError(input, message);
      if (message && !firstBad) firstBad = input;
    }
    if (terms) {
      setError(terms, terms.checked ? "" : "Please accept the terms of sale and the privacy notice to continue.");
      if (!terms.checked && !firstBad) firstBad = terms;
    }
    if (firstBad) { firstBad.focus(); return; }
    if (!window.eventlyPayments) {
      setError(fields.number, "The payment provider could not be reached. Please reload the page and try again.");
      return;
    }
    paying(true);
    const [month, year] = fields.expiry.value.replace(/\s/g, "").split("/");
    let result;
    try {
      result = await window.eventlyPayments.tokenize({
        number: digits(fields.number.value), expMonth: Number(month), expYear: Number(year.length === 2 ? `20${year}` : year),
        cvc: digits(fields.cvc.value), holder: fields.holder.value.trim(),
      });
    } catch {
      result = { error: "The payment provider could not be reached. Please try again." };
    }
    if (!result || !result.token) {
      paying(false);
      setError(fields[(result && result.field) || "number"], (result && result.error) || "This card could not be used.");
      return;
    }
    tokenInput.value = result.token;
    form.submit(); // the button stays disabled until the next page
  });
  // Back/forward cache: a page shown again must not keep a disabled Pay button.
  window.addEventListener("pageshow", () => paying(false));
})();
