// A little script, to show HTTPower serving JavaScript with the right Content-Type.
(function () {
  'use strict';
  var clock = document.getElementById('clock');
  if (clock) clock.textContent = 'at ' + new Date().toLocaleTimeString();
  var button = document.getElementById('probe');
  var out = document.getElementById('headers');
  if (!button || !out) return;
  button.addEventListener('click', function () {
    fetch(window.location.pathname, { method: 'HEAD', cache: 'no-store' }).then(function (r) {
      var lines = ['HTTP ' + r.status + ' ' + r.statusText];
      r.headers.forEach(function (value, name) { lines.push(name + ': ' + value); });
      out.textContent = lines.join('\n');
      out.hidden = false;
    }).catch(function (e) {
      out.textContent = 'request failed: ' + e;
      out.hidden = false;
    });
  });
})();
