/* The ticket page: "r" writes a public reply, "n" an internal note (both focus the reply box
 * with the right kind chosen). app.js's default r/n only focus a field; this page also switches
 * the kind. Loaded after app.js (both deferred, in order). */
(function () {
  "use strict";

  var closeloop = window.closeloop;
  if (!closeloop || !closeloop.shortcuts) return;

  function write(kind) {
    return function () {
      var form = document.getElementById("reply-form");
      if (!form || form.tagName !== "FORM") return false;
      var choice = form.querySelector('input[name="kind"][value="' + kind + '"]');
      if (choice) choice.checked = true;
      var box = form.querySelector("textarea[name=body]");
      if (!box) return false;
      box.focus();
      return true;
    };
  }

  closeloop.shortcuts.register("r", write("public_reply"));
  closeloop.shortcuts.register("n", write("internal_note"));
})();
