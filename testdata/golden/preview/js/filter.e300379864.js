// Filter a topic page's notes by the strength of their evidence. Without
// JavaScript the form stays hidden and every note shows.
(function () {
  var form = document.querySelector(".evidence-filter");
  if (!form) return;
  form.hidden = false;
  form.addEventListener("change", function () {
    var want = form.querySelector("input[name=strength]:checked").value;
    document.querySelectorAll(".cards > li").forEach(function (li) {
      var card = li.querySelector(".card");
      li.hidden = want !== "" && (!card || card.getAttribute("data-strength") !== want);
    });
  });
})();
