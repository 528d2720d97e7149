// A Prometheus stand-in in a process of its own: scrapes the URL every second while told to.
let timer;
let scrapes = 0;
process.on("message", (message) => {
  clearInterval(timer);
  if (message.scrape) {
    timer = setInterval(() => {
      fetch(message.url)
        .then((response) => response.text())
        .then(
          () => scrapes++,
          () => {},
        );
    }, 1000);
  }
  if (message.exit) process.send({ scrapes }, () => process.exit(0));
});
