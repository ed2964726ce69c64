/*
 * libFuzzer target for the request side: framing, strict JSON, request decode.
 * Besides "no crash, no leak, no UB" it checks properties that must hold for any
 * input:
 *  - if xp_json_check accepts the bytes, cJSON parses them (the two agree);
 *  - a refused line gets an error whose message starts with its field and is
 *    valid UTF-8, and the agent's error line for it decodes back to the same code
 *    and message;
 *  - an accepted request encodes, decodes to an equal request, and re-encodes to
 *    the same line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xproto.h"

static void check_error(const struct xp_request *req, const struct xp_error *err)
{
	struct xp_response r;
	struct xp_error e2;
	size_t flen = strlen(err->field);
	char *line;

	if (err->code == XP_OK || !xp_utf8_valid(err->message, strlen(err->message), NULL))
		abort();
	if (flen == 0 || strncmp(err->message, err->field, flen) != 0 || err->message[flen] != ':')
		abort();
	line = xp_response_error(req->id, err->code, err->message, &e2);
	if (line == NULL)
		abort();
	if (xp_response_decode(line, strlen(line), &r, &e2) != 0 || r.kind != XP_RESPONSE_ERROR ||
	    r.code != err->code || strcmp(r.message, err->message) != 0 || strcmp(r.id, req->id) != 0)
		abort();
	xp_response_free(&r);
	free(line);
}

static void check_round_trip(const struct xp_request *req)
{
	struct xp_request back;
	struct xp_error err;
	char *line = xp_request_encode(req, &err), *again;

	if (line == NULL)
		abort();
	if (xp_request_decode(line, strlen(line), &back, &err) != 0 || !xp_request_equal(req, &back))
		abort();
	again = xp_request_encode(&back, &err);
	if (again == NULL || strcmp(again, line) != 0)
		abort();
	free(again);
	free(line);
}

static void check_json_agreement(const char *data, size_t size)
{
	struct xp_error err;
	cJSON *root;

	if (xp_json_check(data, size, &err) != 0)
		return;
	root = cJSON_ParseWithLengthOpts(data, size, NULL, 0);
	if (root == NULL)
		abort(); /* our checker accepted what cJSON cannot parse */
	cJSON_Delete(root);
}

static void decode_one(const char *data, size_t size)
{
	struct xp_request *req = malloc(sizeof(*req));
	struct xp_error err;

	if (req == NULL)
		return;
	check_json_agreement(data, size);
	if (xp_request_decode(data, size, req, &err) == 0)
		check_round_trip(req);
	else
		check_error(req, &err);
	free(req);
}

/* The same bytes as a stream: split into lines, each decoded. */
static void frame_all(const char *data, size_t size)
{
	/* On the stack: a 64 KiB heap block per input made the fuzzer 5x slower. */
	struct xp_framer framer, *f = &framer;
	size_t off = 0, used, len;
	const char *line;

	xp_framer_init(f);
	while (off < size) {
		/* Odd chunk sizes exercise lines split across reads. */
		size_t chunk = 1 + (off * 7) % 13;

		if (chunk > size - off)
			chunk = size - off;
		if (xp_framer_feed(f, data + off, chunk, &used, &line, &len) == XP_FRAME_LINE)
			decode_one(line, len);
		if (used > chunk)
			abort();
		off += used;
	}
	if (xp_framer_finish(f, &line, &len) == XP_FRAME_LINE)
		decode_one(line, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_one((const char *)data, size);
	if (memchr(data, '\n', size) != NULL)
		frame_all((const char *)data, size);
	return 0;
}
