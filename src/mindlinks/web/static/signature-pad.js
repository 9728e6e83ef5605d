/* Mind-Links signature pad (web/templates/contracts/detail.html): draw with a mouse, a finger
   or a pen on the <canvas>; after each stroke the drawing is written, as a PNG data URL, into
   the form's hidden `signature` field, which the server checks like the API's sign body.
   Without this script the pad stays hidden and the typed full name signs instead.
   Loaded again by each htmx page swap: every pad is set up once (data-ready). */
(function () {
  "use strict";

  function setUp(pad) {
    if (pad.dataset.ready) return;
    pad.dataset.ready = "1";
    var form = pad.closest("form");
    var field = form.querySelector("input[name=signature]");
    var canvas = pad.querySelector("canvas");
    var ctx = canvas.getContext("2d");
    var drawing = false, drawn = false, last = null;
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#14205a";

    function at(event) {  // CSS pixels -> canvas pixels (the canvas is scaled to fit)
      var box = canvas.getBoundingClientRect();
      return {x: (event.clientX - box.left) * canvas.width / box.width,
              y: (event.clientY - box.top) * canvas.height / box.height};
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      last = at(event);
      canvas.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var point = at(event);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(point.x, point.y);
      ctx.stroke();
      last = point;
      drawn = true;
    });
    function end() {
      if (!drawing) return;
      drawing = false;
      if (drawn) field.value = canvas.toDataURL("image/png");
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    pad.querySelector("[data-signature-clear]").addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      field.value = "";
    });
    pad.hidden = false;
  }

  function setUpAll() {
    document.querySelectorAll("[data-signature-pad]").forEach(setUp);
  }

  if (!window.mlSignaturePad) {
    window.mlSignaturePad = true;
    document.addEventListener("htmx:load", setUpAll);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
