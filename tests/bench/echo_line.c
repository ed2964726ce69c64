/*
 * A responder that does no work, for bench_agent_tasks: answers every input line
 * with one fixed line of SIZE bytes ({"ok":true,...} padding). Run as sshd's
 * forced command, it shows what sshd, the client and the scheduler cost per round
 * trip on this machine before the agent does anything.
 *
 *   echo_line SIZE
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char in[1 << 16], answer[1 << 16];
	size_t size = argc > 1 ? (size_t)atoi(argv[1]) : 600, have = 0;
	const char *head = "{\"ok\":true,\"pad\":\"";

	if (size < strlen(head) + 3 || size >= sizeof(answer))
		return 2;
	memset(answer, 'x', size);
	memcpy(answer, head, strlen(head));
	memcpy(answer + size - 3, "\"}\n", 3);
	for (;;) {
		ssize_t n = read(0, in + have, sizeof(in) - have);
		char *nl;

		if (n <= 0)
			return 0;
		have += (size_t)n;
		while ((nl = memchr(in, '\n', have)) != NULL) {
			size_t used = (size_t)(nl - in) + 1;

			memmove(in, in + used, have - used);
			have -= used;
			if (write(1, answer, size) != (ssize_t)size)
				return 1;
		}
		if (have == sizeof(in))
			have = 0; /* a line longer than the buffer: drop it */
	}
}
