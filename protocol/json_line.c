/* One protocol line <-> one cJSON tree, with every strict rule applied both ways. */
#include <string.h>

#include "xp_json.h"

int xp_json_parse_syntax(const char *line, size_t len, cJSON **out, struct xp_error *err)
{
	int rc;

	*out = NULL;
	if ((rc = xp_json_check(line, len, err)) != 0)
		return rc;
	/* Only memory exhaustion can make cJSON fail on a checked line. */
	*out = cJSON_ParseWithLengthOpts(line, len, NULL, 0);
	if (*out == NULL)
		return xp_error_set(err, XP_INTERNAL, "line", "JSON parser failed (out of memory?)");
	return 0;
}

int xp_json_parse(const char *line, size_t len, cJSON **out, struct xp_error *err)
{
	cJSON *root;
	int rc;

	*out = NULL;
	if ((rc = xp_json_parse_syntax(line, len, &root, err)) != 0)
		return rc;
	if ((rc = xp_json_check_tree(root, err)) != 0) {
		cJSON_Delete(root);
		return rc;
	}
	*out = root;
	return 0;
}

char *xp_json_print_line(const cJSON *root, enum xp_code fail_code, struct xp_error *err)
{
	char *text;

	if (root == NULL) {
		xp_error_set(err, XP_INTERNAL, "line", "nothing to print (out of memory?)");
		return NULL;
	}
	if (xp_json_check_tree(root, err) != 0)
		goto refuse;
	text = cJSON_PrintUnformatted(root);
	if (text == NULL) {
		xp_error_set(err, XP_INTERNAL, "line", "out of memory printing JSON");
		return NULL;
	}
	if (xp_json_check(text, strlen(text), err) == 0)
		return text;
	cJSON_free(text);
refuse:
	if (err != NULL && err->code != XP_INTERNAL)
		err->code = fail_code;
	return NULL;
}
