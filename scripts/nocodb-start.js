// Starts NocoDB (npm package `nocodb`, installed by scripts/nocodb.sh) on 127.0.0.1.
// Usage: node scripts/nocodb-start.js PORT   (run with the install dir's node_modules on NODE_PATH)
// Environment as NocoDB reads it: NC_TOOL_DIR (data dir, SQLite there unless NC_DB is set),
// NC_AUTH_JWT_SECRET, NC_ADMIN_EMAIL / NC_ADMIN_PASSWORD (first user), NC_DISABLE_TELE.
const http = require('http');
const express = require('express');

(async () => {
  const port = parseInt(process.argv[2] || process.env.PORT || '8080', 10);
  process.env.NC_DISABLE_TELE = process.env.NC_DISABLE_TELE || 'true';
  process.env.PORT = String(port);
  const app = express();
  const server = http.createServer(app);
  server.listen(port, '127.0.0.1');
  app.use(await require('nocodb').Noco.init({}, server, app));
  console.log(`nocodb listening on http://127.0.0.1:${port}`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
