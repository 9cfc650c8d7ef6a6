/* Admin pages: ask before destructive posts (forms with data-confirm) and copy buttons
 * (data-copy="#selector" copies the element's value; data-copied is the label shown after). */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form && form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var done = function () {
      var label = button.getAttribute("data-copied");
      if (label) {
        var before = button.textContent;
        button.textContent = label;
        window.setTimeout(function () { button.textContent = before; }, 1500);
      }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        field.select();
        document.execCommand("copy");
        done();
      });
    } else {
      field.select();
      document.execCommand("copy");
      done();
    }
  });
})();
