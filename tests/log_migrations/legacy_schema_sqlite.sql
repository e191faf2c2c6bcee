CREATE TABLE conversation_events (
	id INTEGER NOT NULL, 
	sender_id VARCHAR(64), 
	type_name VARCHAR(64), 
	timestamp FLOAT, 
	intent_name VARCHAR(255), 
	intent_confidence FLOAT, 
	action_name VARCHAR(255), 
	data TEXT, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_conversation_events_timestamp ON conversation_events (timestamp);

CREATE INDEX ix_conversation_events_sender_time ON conversation_events (sender_id, timestamp);

CREATE INDEX ix_conversation_events_sender_id ON conversation_events (sender_id);

CREATE INDEX ix_conversation_events_intent_name ON conversation_events (intent_name);

CREATE INDEX ix_conversation_events_type_name ON conversation_events (type_name);

CREATE TABLE conversation_senders (
	sender_hash VARCHAR(64) NOT NULL, 
	sealed_sender_id TEXT NOT NULL, 
	channel VARCHAR(64), 
	first_seen FLOAT, 
	PRIMARY KEY (sender_hash)
);

CREATE TABLE console_index_state (
	"key" VARCHAR(64) NOT NULL, 
	last_event_id INTEGER NOT NULL, 
	updated_at FLOAT, 
	PRIMARY KEY ("key")
);

CREATE TABLE console_index_gaps (
	event_id INTEGER NOT NULL, 
	seen_at FLOAT NOT NULL, 
	PRIMARY KEY (event_id)
);

CREATE TABLE console_conversations (
	id INTEGER NOT NULL, 
	sender_id VARCHAR(64) NOT NULL, 
	last_event_id INTEGER NOT NULL, 
	channel VARCHAR(32), 
	started_at FLOAT NOT NULL, 
	last_at FLOAT NOT NULL, 
	turns INTEGER NOT NULL, 
	events INTEGER NOT NULL, 
	intents TEXT NOT NULL, 
	min_confidence FLOAT, 
	completed BOOLEAN NOT NULL, 
	fallback BOOLEAN NOT NULL, 
	handoff BOOLEAN NOT NULL, 
	abandoned_form BOOLEAN NOT NULL, 
	service_error BOOLEAN NOT NULL, 
	open_form VARCHAR(255), 
	form_closed BOOLEAN NOT NULL, 
	last_action VARCHAR(255), 
	review_status VARCHAR(16) NOT NULL, 
	reviewed_by VARCHAR(64), 
	reviewed_at FLOAT, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_console_conversations_review ON console_conversations (review_status, started_at);

CREATE INDEX ix_console_conversations_started ON console_conversations (started_at);

CREATE INDEX ix_console_conversations_sender ON console_conversations (sender_id, id);

CREATE INDEX ix_console_conversations_channel ON console_conversations (channel, started_at);

CREATE TABLE console_conversation_intents (
	conversation_id INTEGER NOT NULL, 
	intent VARCHAR(255) NOT NULL, 
	PRIMARY KEY (conversation_id, intent)
);

CREATE INDEX ix_console_conversation_intents_intent ON console_conversation_intents (intent, conversation_id);

CREATE TABLE console_search_text (
	conversation_id INTEGER NOT NULL, 
	tokens TEXT NOT NULL, 
	PRIMARY KEY (conversation_id)
);

CREATE VIRTUAL TABLE IF NOT EXISTS console_search_fts USING fts5(tokens, content='console_search_text', content_rowid='conversation_id');

CREATE TRIGGER IF NOT EXISTS console_search_ai AFTER INSERT ON console_search_text BEGIN INSERT INTO console_search_fts(rowid, tokens) VALUES (new.conversation_id, new.tokens); END;

CREATE TRIGGER IF NOT EXISTS console_search_ad AFTER DELETE ON console_search_text BEGIN INSERT INTO console_search_fts(console_search_fts, rowid, tokens) VALUES ('delete', old.conversation_id, old.tokens); END;

CREATE TRIGGER IF NOT EXISTS console_search_au AFTER UPDATE ON console_search_text BEGIN INSERT INTO console_search_fts(console_search_fts, rowid, tokens) VALUES ('delete', old.conversation_id, old.tokens); INSERT INTO console_search_fts(rowid, tokens) VALUES (new.conversation_id, new.tokens); END;

CREATE TABLE console_conversation_tags (
	conversation_id INTEGER NOT NULL, 
	tag VARCHAR(32) NOT NULL, 
	created_by VARCHAR(64), 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (conversation_id, tag)
);

CREATE INDEX ix_console_conversation_tags_tag ON console_conversation_tags (tag, conversation_id);

CREATE TABLE console_message_flags (
	event_id INTEGER NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	event_timestamp FLOAT, 
	note VARCHAR(500) NOT NULL, 
	created_by VARCHAR(64), 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (event_id)
);

CREATE INDEX ix_console_message_flags_conversation_id ON console_message_flags (conversation_id);

CREATE TABLE console_corrections (
	event_id INTEGER NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	event_timestamp FLOAT, 
	text TEXT NOT NULL, 
	predicted_intent VARCHAR(255), 
	intent VARCHAR(255) NOT NULL, 
	entities TEXT NOT NULL, 
	created_by VARCHAR(64), 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (event_id)
);

CREATE INDEX ix_console_corrections_conversation_id ON console_corrections (conversation_id);

CREATE TABLE console_users (
	id INTEGER NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	password_hash VARCHAR(255) NOT NULL, 
	disabled BOOLEAN NOT NULL, 
	created_at FLOAT NOT NULL, 
	last_login_at FLOAT, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);

CREATE TABLE console_login_failures (
	id INTEGER NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	client VARCHAR(64) NOT NULL, 
	at FLOAT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_console_login_failures_at ON console_login_failures (at);

CREATE INDEX ix_console_login_failures_username ON console_login_failures (username);

CREATE INDEX ix_console_login_failures_client ON console_login_failures (client);

CREATE TABLE console_audit_log (
	id INTEGER NOT NULL, 
	at FLOAT NOT NULL, 
	user_id INTEGER, 
	username VARCHAR(64) NOT NULL, 
	action VARCHAR(64) NOT NULL, 
	target VARCHAR(255) NOT NULL, 
	detail TEXT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_console_audit_log_user_id ON console_audit_log (user_id);

CREATE INDEX ix_console_audit_log_at ON console_audit_log (at);

CREATE INDEX ix_console_audit_log_action ON console_audit_log (action);

CREATE INDEX ix_console_audit_log_username ON console_audit_log (username);

CREATE TABLE handoffs (
	id INTEGER NOT NULL, 
	sender_hash VARCHAR(64) NOT NULL, 
	request_event_id INTEGER, 
	channel VARCHAR(64), 
	requested_at FLOAT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	operator VARCHAR(64), 
	taken_at FLOAT, 
	closed_at FLOAT, 
	closed_reason VARCHAR(32), 
	PRIMARY KEY (id), 
	UNIQUE (request_event_id)
);

CREATE INDEX ix_handoffs_sender_hash ON handoffs (sender_hash);

CREATE INDEX ix_handoffs_requested_at ON handoffs (requested_at);

CREATE INDEX ix_handoffs_status ON handoffs (status);

CREATE TABLE handoff_requests (
	event_id INTEGER NOT NULL, 
	handoff_id INTEGER NOT NULL, 
	PRIMARY KEY (event_id)
);

CREATE INDEX ix_handoff_requests_handoff_id ON handoff_requests (handoff_id);

CREATE TABLE handoff_sync (
	id INTEGER NOT NULL, 
	last_event_id INTEGER NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE console_sessions (
	id INTEGER NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	csrf_token VARCHAR(64) NOT NULL, 
	user_id INTEGER NOT NULL, 
	created_at FLOAT NOT NULL, 
	expires_at FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (token_hash), 
	FOREIGN KEY(user_id) REFERENCES console_users (id) ON DELETE CASCADE
);

CREATE INDEX ix_console_sessions_expires_at ON console_sessions (expires_at);

CREATE INDEX ix_console_sessions_user_id ON console_sessions (user_id);
