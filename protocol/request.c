/* Requests <-> lines. */
#include <string.h>

#include "xp_envelope.h"
#include "xp_json.h"
#include "xp_path.h"
#include "xp_request.h"
#include "xp_utf8.h"

void xp_request_init(struct xp_request *req, const char *id, enum xp_op op)
{
	memset(req, 0, sizeof(*req));
	/* An id that does not fit stays empty, so encoding fails instead of cutting it. */
	if (id != NULL && strlen(id) < sizeof(req->id))
		memcpy(req->id, id, strlen(id) + 1);
	req->op = op;
}

static int decode_op(const cJSON *root, enum xp_op *op, struct xp_error *err)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "op");
	char quoted[XP_OP_MAX + 4];

	if (item == NULL)
		return xp_error_set(err, XP_BAD_REQUEST, "op", "missing");
	if (!cJSON_IsString(item))
		return xp_error_set(err, XP_BAD_REQUEST, "op", "expected a string, got %s",
				    xp_json_type_name(item));
	if (xp_op_from_name(item->valuestring, op) != 0) {
		xp_utf8_excerpt(quoted, sizeof(quoted), item->valuestring);
		return xp_error_set(err, XP_UNKNOWN_OP, "op", "unknown operation \"%s\"", quoted);
	}
	return 0;
}

static uint32_t op_args(const struct xp_op_info *info)
{
	return info->required | info->optional;
}

static int decode_body(const cJSON *root, struct xp_request *req, struct xp_error *err)
{
	const struct xp_op_info *info;
	const cJSON *args;
	int rc;

	if ((rc = decode_op(root, &req->op, err)) != 0)
		return rc;
	args = cJSON_GetObjectItemCaseSensitive(root, "args");
	if (args == NULL)
		return xp_error_set(err, XP_BAD_REQUEST, "args", "missing (use {} for none)");
	info = xp_op_info(req->op);
	return xp_fields_decode(xp_arg_fields(), XP_ARG_COUNT, op_args(info), info->required, args,
				&req->args, "args", err);
}

int xp_request_decode(const char *line, size_t len, struct xp_request *req, struct xp_error *err)
{
	cJSON *root;
	int rc;

	memset(req, 0, sizeof(*req));
	if ((rc = xp_envelope_decode(line, len, false, &root, req->id, err)) != 0)
		return rc;
	rc = decode_body(root, req, err);
	cJSON_Delete(root);
	return rc != 0 ? rc : xp_error_clear(err);
}

/* An encoder refuses arguments its op does not take: that is a caller's bug. */
static int check_args_of_op(const struct xp_request *req, const struct xp_op_info *info,
			    struct xp_error *err)
{
	char path[XP_PATH_BUF];

	for (unsigned a = 0; a < XP_ARG_COUNT; a++) {
		if (req->args.has[a] && !(op_args(info) & XP_ARG_BIT(a))) {
			xp_path_join(path, sizeof(path), "args", xp_arg_name((enum xp_arg)a));
			return xp_error_set(err, XP_BAD_REQUEST, path, "not an argument of %s",
					    info->name);
		}
	}
	return 0;
}

char *xp_request_encode(const struct xp_request *req, struct xp_error *err)
{
	const struct xp_op_info *info = xp_op_info(req->op);
	cJSON *root = NULL, *args;
	char *line = NULL;

	if (info == NULL) {
		xp_error_set(err, XP_BAD_REQUEST, "op", "%d is not an operation", (int)req->op);
		return NULL;
	}
	if (!xp_id_valid(req->id)) {
		xp_error_set(err, XP_BAD_REQUEST, "id", "must be 1 to %d characters from A-Z a-z 0-9 . _ : -",
			     XP_ID_MAX);
		return NULL;
	}
	if (check_args_of_op(req, info, err) != 0)
		return NULL;
	root = xp_envelope_new(req->id, XP_BAD_REQUEST, err);
	if (root == NULL)
		return NULL;
	if (cJSON_AddStringToObject(root, "op", info->name) == NULL ||
	    (args = cJSON_AddObjectToObject(root, "args")) == NULL) {
		xp_error_set(err, XP_INTERNAL, "line", "out of memory");
		goto out;
	}
	if (xp_fields_encode(xp_arg_fields(), XP_ARG_COUNT, op_args(info), info->required,
			     &req->args, args, "args", err) != 0)
		goto out;
	line = xp_json_print_line(root, XP_BAD_REQUEST, err);
out:
	cJSON_Delete(root);
	return line;
}

bool xp_request_equal(const struct xp_request *a, const struct xp_request *b)
{
	const struct xp_op_info *info = xp_op_info(a->op);

	if (strcmp(a->id, b->id) != 0 || a->op != b->op || info == NULL)
		return false;
	return xp_fields_equal(xp_arg_fields(), XP_ARG_COUNT, op_args(info), &a->args, &b->args);
}
