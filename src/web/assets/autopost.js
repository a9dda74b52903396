// Sends the deep linking response to the LMS at once; the button stays for browsers without script.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("autopost");
  if (form) {
    form.submit();
  }
});
