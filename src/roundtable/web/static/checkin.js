/* The event's check-in page: read a QR code with the phone's camera and open it.
   The browser's BarcodeDetector where it exists, else the vendored jsQR (vendor/README.md).
   Only a code of this site's /checkin/ pages is followed; anything else is shown, not opened. */
(function () {
  "use strict";
  var start = document.getElementById("scan-start");
  var video = document.getElementById("scan-video");
  var status = document.getElementById("scan-status");
  if (!start || !video || !status) { return; }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    status.textContent = "This browser cannot use the camera here; search by name below.";
    start.hidden = true;
    return;
  }
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var detector = null;

  function follow(text) {
    var url;
    try { url = new URL(text, window.location.href); } catch (e) { url = null; }
    if (url && url.origin === window.location.origin && url.pathname.indexOf("/checkin/") === 0) {
      status.textContent = "Code read; opening…";
      window.location.assign(url.pathname);
      return true;
    }
    status.textContent = "That code is not a check-in code of this site.";
    return false;
  }

  function withJsQR() {
    if (!video.videoWidth) { return null; }
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    var image = context.getImageData(0, 0, canvas.width, canvas.height);
    var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
    return found ? found.data : null;
  }

  function tick() {
    if (video.readyState < 2) { window.requestAnimationFrame(tick); return; }
    var next = function (text) {
      if (text && follow(text)) { return; }
      window.setTimeout(function () { window.requestAnimationFrame(tick); }, 200);
    };
    if (detector) {
      detector.detect(video).then(function (codes) {
        next(codes.length ? codes[0].rawValue : null);
      }, function () { detector = null; next(null); });
    } else {
      next(withJsQR());
    }
  }

  start.addEventListener("click", function () {
    if ("BarcodeDetector" in window) {
      try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { detector = null; }
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        start.hidden = true;
        status.textContent = "Point the camera at the invitee's QR code.";
        return video.play();
      })
      .then(function () { window.requestAnimationFrame(tick); })
      .catch(function () {
        status.textContent = "The camera could not be opened; search by name below.";
      });
  });
}());
