// A CommonJS consumer of herald-client (an ES module package): Node 20.19+ and 22.12+ load it with
// require(), as herald-client's engines (>=20.19) allow. Subscribes, publishes one event with the
// publisher token HERALD_TOKEN to HERALD_URL, prints what it received as JSON, then exits by itself.
const { publish, subscribe } = require("herald-client");

const url = process.env.HERALD_URL;
const token = process.env.HERALD_TOKEN;
const topic = `consumers/node-${process.versions.node}/cjs`;

async function main() {
  let opened;
  const open = new Promise((resolve) => (opened = resolve));
  const stream = subscribe({
    url,
    topics: [topic],
    onStateChange: ({ state }) => state === "open" && opened(),
  });
  await open;
  const { id } = await publish({ url, token, topic, data: { from: "require" } });
  for await (const message of stream) {
    console.log(
      JSON.stringify({
        node: process.version,
        published: id,
        received: { id: message.id, data: message.data },
      }),
    );
    break;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
