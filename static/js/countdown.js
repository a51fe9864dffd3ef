// Checkout countdown: shows the time left on the buyer's hold; at zero says so and stops payment.
"use strict";

(() => {
  const node = document.querySelector("[data-expires-at]");
  if (!node) return;
  const expiresAt = Date.parse(node.dataset.expiresAt);
  const time = node.querySelector(".countdown-time");
  const timer = setInterval(tick, 250);
  tick();

  function tick() {
    const left = Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000));
    time.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    node.classList.toggle("is-urgent", left <= 60);
    if (left > 0) return;
    clearInterval(timer);
    node.setAttribute("role", "alert");
    node.textContent = "Your time ran out and your seats were released. Go back to the seat map to choose again.";
    const pay = document.getElementById("pay-button");
    if (pay) pay.disabled = true;
  }
})();
