/* The envelope: version and id, read and written the same way on both sides. */
#include <string.h>

#include "xp_envelope.h"
#include "xp_json.h"

bool xp_id_valid(const char *id)
{
	size_t n = 0;

	if (id == NULL)
		return false;
	for (; id[n] != '\0'; n++) {
		char c = id[n];

		if (n >= XP_ID_MAX)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return false;
	}
	return n > 0;
}

/* The id to echo: only when "id" occurs once and is itself valid. */
static void peek_id(const cJSON *root, char id_out[XP_ID_MAX + 1])
{
	const cJSON *item, *found = NULL;

	cJSON_ArrayForEach(item, root) {
		if (item->string != NULL && strcmp(item->string, "id") == 0) {
			if (found != NULL)
				return;
			found = item;
		}
	}
	if (found != NULL && cJSON_IsString(found) && xp_id_valid(found->valuestring))
		memcpy(id_out, found->valuestring, strlen(found->valuestring) + 1);
}

static int check_version(const cJSON *root, struct xp_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "xclone");
	int64_t version;

	if (v == NULL)
		return xp_error_set(err, XP_BAD_REQUEST, "xclone", "missing (the protocol version, %d)",
				    XP_PROTOCOL_VERSION);
	if (xp_json_int(v, &version) != 0)
		return xp_error_set(err, XP_BAD_REQUEST, "xclone",
				    "expected an integer protocol version, got %s",
				    xp_json_type_name(v));
	if (version != XP_PROTOCOL_VERSION)
		return xp_error_set(err, XP_UNSUPPORTED_VERSION, "xclone",
				    "protocol version %lld is not supported (this side speaks %d)",
				    (long long)version, XP_PROTOCOL_VERSION);
	return 0;
}

static int check_id(const cJSON *root, bool id_nullable, struct xp_error *err)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");

	if (id == NULL)
		return xp_error_set(err, XP_BAD_REQUEST, "id", "missing");
	if (id_nullable && cJSON_IsNull(id))
		return 0;
	if (!cJSON_IsString(id))
		return xp_error_set(err, XP_BAD_REQUEST, "id", "expected a string, got %s",
				    xp_json_type_name(id));
	if (!xp_id_valid(id->valuestring))
		return xp_error_set(err, XP_BAD_REQUEST, "id",
				    "must be 1 to %d characters from A-Z a-z 0-9 . _ : -", XP_ID_MAX);
	return 0;
}

int xp_envelope_decode(const char *line, size_t len, bool id_nullable, cJSON **root,
		       char id_out[XP_ID_MAX + 1], struct xp_error *err)
{
	cJSON *tree;
	int rc;

	id_out[0] = '\0';
	*root = NULL;
	if ((rc = xp_json_parse_syntax(line, len, &tree, err)) != 0)
		return rc;
	peek_id(tree, id_out);
	if ((rc = xp_json_check_tree(tree, err)) != 0 || (rc = check_version(tree, err)) != 0 ||
	    (rc = check_id(tree, id_nullable, err)) != 0) {
		cJSON_Delete(tree);
		return rc;
	}
	*root = tree;
	return 0;
}

cJSON *xp_envelope_new(const char *id, enum xp_code fail_code, struct xp_error *err)
{
	bool null_id = id == NULL || id[0] == '\0';
	cJSON *root;

	if (!null_id && !xp_id_valid(id)) {
		xp_error_set(err, fail_code, "id", "must be 1 to %d characters from A-Z a-z 0-9 . _ : -",
			     XP_ID_MAX);
		return NULL;
	}
	root = cJSON_CreateObject();
	if (root == NULL || cJSON_AddNumberToObject(root, "xclone", XP_PROTOCOL_VERSION) == NULL ||
	    (null_id ? cJSON_AddNullToObject(root, "id") : cJSON_AddStringToObject(root, "id", id)) ==
		    NULL) {
		cJSON_Delete(root);
		xp_error_set(err, XP_INTERNAL, "line", "out of memory");
		return NULL;
	}
	return root;
}
