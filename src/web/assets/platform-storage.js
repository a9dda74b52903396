// Platform storage (1EdTech LTI Client Side postMessages): when third-party cookies are blocked, the
// login's proof is kept by the platform's frame (lti.put_data) and read back at the launch
// (lti.get_data). Messages go only to the platform's origin; only its answers count.
(function () {
  var node = document.querySelector("[data-platform-storage]");
  if (!node) return;
  var mode = node.getAttribute("data-platform-storage");
  var target = node.getAttribute("data-storage-target");
  var origin = node.getAttribute("data-platform-origin");
  var key = node.getAttribute("data-key");
  var id = "cb-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
  var finished = false;

  function proceed() {
    window.location.replace(node.getAttribute("data-next"));
  }
  function fallBack() {
    if (finished) return;
    finished = true;
    if (mode === "put") {
      proceed(); // the cookie may still work
      return;
    }
    var choice = document.getElementById("new-window");
    if (choice) {
      choice.hidden = false;
      var link = choice.querySelector("a");
      if (link) link.focus();
    }
    var waiting = document.getElementById("storage-waiting");
    if (waiting) waiting.hidden = true;
  }
  if (window.parent === window) {
    fallBack();
    return;
  }
  var wanted = mode === "put" ? "lti.put_data" : "lti.get_data";
  var discovering = target === "_capabilities";
  var frame = discovering ? null : target === "_parent" ? window.parent : window.parent.frames[target];
  if (!discovering && !frame) {
    fallBack();
    return;
  }
  function send() {
    var message =
      mode === "put"
        ? { subject: "lti.put_data", message_id: id, key: key, value: node.getAttribute("data-value") }
        : { subject: "lti.get_data", message_id: id, key: key };
    try {
      frame.postMessage(message, origin);
    } catch (error) {
      fallBack();
      return;
    }
    setTimeout(fallBack, 3000);
  }
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (finished || event.origin !== origin || !data || data.message_id !== id) return;
    if (discovering && data.subject === "lti.capabilities.response") {
      // The platform says which messages it answers and, per message, in which frame.
      var offered = (data.supported_messages || []).filter(function (m) { return m.subject === wanted; })[0];
      discovering = false;
      if (!offered) {
        fallBack();
        return;
      }
      frame = offered.frame ? window.parent.frames[offered.frame] : window.parent;
      if (!frame) {
        fallBack();
        return;
      }
      send();
    } else if (data.error) {
      fallBack();
    } else if (mode === "put" && data.subject === "lti.put_data.response") {
      finished = true;
      proceed();
    } else if (mode === "get" && data.subject === "lti.get_data.response" && data.value) {
      finished = true;
      node.querySelector('input[name="binding"]').value = data.value;
      node.submit();
    }
  });
  if (discovering) {
    // A platform without storage does not answer; the login goes on after a short wait.
    try {
      window.parent.postMessage({ subject: "lti.capabilities", message_id: id }, origin);
    } catch (error) {
      fallBack();
      return;
    }
    setTimeout(function () {
      if (discovering) fallBack();
    }, mode === "put" ? 500 : 1500);
  } else {
    send();
  }
})();
