// Dynamic Registration ends here: the platform that opened this page closes it (LTI DR 1.0 §3.6).
(window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
