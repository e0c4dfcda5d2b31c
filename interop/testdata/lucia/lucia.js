// A Lucia v1 (JavaScript) application reduced to what the Go interop tests
// need: the real lucia-auth 1.8.0 on the real adapters, and the real
// @lucia-auth/oauth 1.2.1, driven over stdin/stdout by ../../lucia_test.go.
//
//	LUCIA_ADAPTER=mongoose   LUCIA_URI=mongodb://host/ LUCIA_DB=db node lucia.js
//	LUCIA_ADAPTER=postgresql LUCIA_URI=postgres://... LUCIA_PG_SCHEMA=s node lucia.js
//
// It prints {"ready":true} once connected, then answers each request line
//
//	{"op":"useKey","args":["username","ann","pw"]}
//
// with one line: {"result":...} on success, {"error":"AUTH_..."} for a
// LuciaError, {"failure":"..."} for anything else. Dates are Unix ms.
import "lucia-auth/polyfill/node"; // Lucia's own, for Node versions before 20
import readline from "node:readline";
import lucia, { LuciaError } from "lucia-auth";
import { github } from "@lucia-auth/oauth/providers";

const adapterName = process.env.LUCIA_ADAPTER;
const uri = process.env.LUCIA_URI;
if (!uri) throw new Error("LUCIA_URI is not set");

let adapter, close;
if (adapterName === "mongoose") {
	const { default: mongoose } = await import("mongoose");
	const mongooseAdapter = (await import("@lucia-auth/adapter-mongoose")).default;
	// The models as Lucia's documentation for this adapter defines them.
	// mongoose names each collection after the plural of its model:
	// auth_users, auth_sessions, auth_keys.
	mongoose.model("auth_user", new mongoose.Schema({
		_id: { type: String },
		username: String,
		email: String,
	}, { _id: false }));
	mongoose.model("auth_session", new mongoose.Schema({
		_id: { type: String },
		user_id: { type: String, required: true },
		active_expires: { type: Number, required: true },
		idle_expires: { type: Number, required: true },
	}, { _id: false }));
	mongoose.model("auth_key", new mongoose.Schema({
		_id: { type: String },
		user_id: { type: String, required: true },
		hashed_password: String,
		primary_key: { type: Boolean, required: true },
		expires: Number,
	}, { _id: false }));
	await mongoose.connect(uri, { dbName: process.env.LUCIA_DB });
	adapter = mongooseAdapter(mongoose);
	close = () => mongoose.disconnect();
} else if (adapterName === "postgresql") {
	const { default: pg } = await import("pg");
	const { pg: pgAdapter } = await import("@lucia-auth/adapter-postgresql");
	// The adapter names its tables without a schema; the search path puts
	// the test's scratch schema first.
	const schema = process.env.LUCIA_PG_SCHEMA;
	const pool = new pg.Pool({
		connectionString: uri,
		options: schema ? `-c search_path=${schema}` : undefined,
	});
	await pool.query("SELECT 1");
	adapter = pgAdapter(pool);
	// The adapter's setUser with a key checks a client out of the pool
	// for its transaction and never returns it (and runs the inserts on
	// the pool, outside that transaction): each sign-up keeps one client,
	// so pool.end() would wait forever. Close what is idle and let the
	// exit below drop the rest.
	close = () => {
		pool.end();
	};
} else {
	throw new Error(`LUCIA_ADAPTER must be mongoose or postgresql, not ${adapterName}`);
}

const auth = lucia({
	adapter,
	env: "DEV",
	transformDatabaseUser: ({ id, ...attributes }) => ({ userId: id, attributes }),
});

// @lucia-auth/oauth's GitHub provider fetches from github.com and
// api.github.com, which the tests cannot reach: githubSignIn points both at
// the test's stand-in (../../../oauth/github/githubtest). Only the host
// changes; the provider's requests are its own.
let githubStandIn;
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
	if (githubStandIn && input instanceof Request) {
		const url = new URL(input.url);
		if (url.hostname === "github.com" || url.hostname === "api.github.com") {
			input = new Request(new URL(url.pathname + url.search, githubStandIn), input);
		}
	}
	return realFetch(input, init);
};

const session = (s) => ({
	sessionId: s.sessionId,
	userId: s.userId,
	state: s.state,
	fresh: s.fresh,
	activePeriodExpiresAt: s.activePeriodExpiresAt.getTime(),
	idlePeriodExpiresAt: s.idlePeriodExpiresAt.getTime(),
});

const key = (k) => ({ ...k, expiresAt: k.expiresAt ? k.expiresAt.getTime() : null });

// Each operation takes the arguments of the Lucia call of the same name.
const operations = {
	createUser: (providerId, providerUserId, password, attributes) =>
		auth.createUser({ primaryKey: { providerId, providerUserId, password }, attributes }),
	useKey: async (providerId, providerUserId, password) => key(await auth.useKey(providerId, providerUserId, password)),
	getUser: (userId) => auth.getUser(userId),
	updateKeyPassword: async (providerId, providerUserId, password) =>
		key(await auth.updateKeyPassword(providerId, providerUserId, password)),
	createSession: async (userId) => session(await auth.createSession(userId)),
	validateSession: async (sessionId) => session(await auth.validateSession(sessionId)),
	validateSessionUser: async (sessionId) => {
		const { session: s, user } = await auth.validateSessionUser(sessionId);
		return { session: session(s), user };
	},
	getAllUserSessions: async (userId) => (await auth.getAllUserSessions(userId)).map(session),
	invalidateSession: (sessionId) => auth.invalidateSession(sessionId),
	deleteUser: (userId) => auth.deleteUser(userId),
	// The callback of a "Sign in with GitHub" as Lucia's OAuth guide
	// writes it: the existing user of the GitHub key, or a new one.
	githubSignIn: async (standIn, clientId, clientSecret, code, attributes) => {
		githubStandIn = standIn;
		const { existingUser, createUser, providerUser } = await github(auth, { clientId, clientSecret }).validateCallback(code);
		const user = existingUser ?? (await createUser(attributes));
		return { user, created: !existingUser, githubId: providerUser.id };
	},
};

const reply = (message) => process.stdout.write(JSON.stringify(message) + "\n");

reply({ ready: true });
for await (const line of readline.createInterface({ input: process.stdin })) {
	let request;
	try {
		request = JSON.parse(line);
		const operation = operations[request.op];
		if (!operation) throw new Error(`unknown op ${request.op}`);
		reply({ result: (await operation(...(request.args ?? []))) ?? null });
	} catch (e) {
		// LuciaError carries its code as the message.
		if (e instanceof LuciaError) reply({ error: e.message });
		else reply({ failure: String(e?.stack ?? e) });
	}
}
await close();
process.exit(0);
