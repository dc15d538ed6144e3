// Drag and drop on the pipeline board. Dropping a card in another column submits that card's
// own move form, the same keyboard-usable form, so both ways take one route and one rule.
// TODO(#3): after a move the focus returns to the top of the page and nothing announces the
// result; a move racing a filter reload (leaving the search box) can show the board from before
// the move until the next reload.
(function () {
  "use strict";

  function bind(root) {
    root.querySelectorAll("ol.cards").forEach(function (list) {
      if (list.dataset.sortable) {
        return;
      }
      list.dataset.sortable = "bound";
      Sortable.create(list, {
        group: "board",
        animation: 120,
        // Let the controls on a card work as controls.
        filter: "select, button, input, label",
        preventOnFilter: false,
        onEnd: function (event) {
          if (event.from === event.to) {
            return;
          }
          var form = event.item.querySelector("form.move");
          if (!form) {
            return;
          }
          form.querySelector("select[name=stage]").value = event.to.dataset.stage;
          form.requestSubmit();
        },
      });
    });
  }

  // A refused move (409: the deal changed meanwhile; 422: no such stage) answers with the
  // board as it is now and a notice saying why: show it as htmx shows a success.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if ((status === 409 || status === 422) && source && source.closest("form.move")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    bind(document);
  });
  document.addEventListener("htmx:afterSettle", function () {
    bind(document);
  });
})();
