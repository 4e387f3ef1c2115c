/* test_ringtone.c — ringtone_path, and agreement between twiml_ringtone and
 * deploy/gen-tones.py: the generator is run into a temporary directory and
 * must produce a valid WAV for every enum value (TWIML_RING_NONE → us) and no
 * file that no enum value names. Needs python3; run from the repository root
 * (as make test-unit does) or with FULCRUM_SRC_DIR set. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ringtone.h"

static void test_path(void **state)
{
	(void)state;
	char buf[64];
	assert_int_equal(ringtone_path(TWIML_RING_NONE, "/srv/tones", buf, sizeof buf), 0);
	assert_string_equal(buf, "/srv/tones/us.wav");
	assert_int_equal(ringtone_path(TWIML_RING_US, "/srv/tones", buf, sizeof buf), 0);
	assert_string_equal(buf, "/srv/tones/us.wav");
	assert_int_equal(ringtone_path(TWIML_RING_US_OLD, "/srv/tones", buf, sizeof buf), 0);
	assert_string_equal(buf, "/srv/tones/us-old.wav");
	assert_int_equal(ringtone_path(TWIML_RING_AT, "t", buf, sizeof buf), 0);
	assert_string_equal(buf, "t/at.wav");
	assert_int_equal(ringtone_path(TWIML_RING_ZA, "/srv/tones/", buf, sizeof buf), 0);
	assert_string_equal(buf, "/srv/tones/za.wav");
	assert_int_equal(ringtone_path(TWIML_RING_UK, "/", buf, sizeof buf), 0);
	assert_string_equal(buf, "/uk.wav");

	/* "/d/us.wav" is 9 characters: 10 bytes fit, 9 do not. */
	assert_int_equal(ringtone_path(TWIML_RING_US, "/d", buf, 10), 0);
	assert_string_equal(buf, "/d/us.wav");
	memcpy(buf, "garbage", 8);
	assert_int_equal(ringtone_path(TWIML_RING_US, "/d", buf, 9), -1);
	assert_string_equal(buf, "");
	assert_int_equal(ringtone_path(TWIML_RING_US, "/d", buf, 1), -1);
	assert_string_equal(buf, "");
	assert_int_equal(ringtone_path(TWIML_RING_US, "/d", buf, 0), -1);
	assert_int_equal(ringtone_path(TWIML_RING_US, "/d", NULL, 10), -1);

	memcpy(buf, "garbage", 8);
	assert_int_equal(ringtone_path(TWIML_RING_US, NULL, buf, sizeof buf), -1);
	assert_string_equal(buf, "");
	assert_int_equal(ringtone_path(TWIML_RING_US, "", buf, sizeof buf), -1);
	assert_string_equal(buf, "");
	assert_int_equal(ringtone_path(TWIML_RING_COUNT, "/d", buf, sizeof buf), -1);
	assert_int_equal(ringtone_path((twiml_ringtone)-1, "/d", buf, sizeof buf), -1);
}

/* Every value has a distinct, file-name-safe code. */
static void test_names(void **state)
{
	(void)state;
	assert_null(twiml_ringtone_name(TWIML_RING_NONE));
	for (int r = 1; r < TWIML_RING_COUNT; r++) {
		const char *n = twiml_ringtone_name((twiml_ringtone)r);
		assert_non_null(n);
		assert_true(strlen(n) >= 2);
		assert_int_equal(strspn(n, "abcdefghijklmnopqrstuvwxyz-"), strlen(n));
		for (int q = 1; q < r; q++)
			assert_string_not_equal(n, twiml_ringtone_name((twiml_ringtone)q));
	}
}

static uint32_t le32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned le16(const unsigned char *p)
{
	return p[0] | (unsigned)p[1] << 8;
}

/* 0 when path is a RIFF/WAVE file of 8000 Hz 16-bit mono PCM with at least
 * one second of audio (and no more than 60 s). */
static int check_wav(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	unsigned char h[12], ch[8], fmt[16];
	int have_fmt = 0, rc = -1;
	if (fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4))
		goto out;
	while (fread(ch, 1, 8, f) == 8) {
		uint32_t len = le32(ch + 4);
		if (!memcmp(ch, "fmt ", 4)) {
			if (len < 16 || fread(fmt, 1, 16, f) != 16)
				goto out;
			if (le16(fmt) != 1 || le16(fmt + 2) != 1 || le32(fmt + 4) != 8000 ||
			    le32(fmt + 8) != 16000 || le16(fmt + 12) != 2 || le16(fmt + 14) != 16)
				goto out;
			have_fmt = 1;
			len -= 16;
		} else if (!memcmp(ch, "data", 4)) {
			if (have_fmt && len % 2 == 0 && len >= 16000 && len <= 60 * 16000)
				rc = 0;
			goto out;
		}
		if (fseek(f, (long)len + (len & 1), SEEK_CUR))
			goto out;
	}
out:
	if (rc)
		fprintf(stderr, "%s: not 8000 Hz 16-bit mono PCM of 1..60 s\n", path);
	fclose(f);
	return rc;
}

/* The directory holding deploy/gen-tones.py, or NULL. */
static const char *src_dir(void)
{
	static char buf[4096];
	const char *env = getenv("FULCRUM_SRC_DIR");
	const char *cands[] = {env, ".", NULL};
	/* __FILE__ is tests/unit/test_ringtone.c below the source dir. */
	snprintf(buf, sizeof buf, "%s", __FILE__);
	for (int i = 0; i < 3; i++) {
		char *s = strrchr(buf, '/');
		if (s)
			*s = '\0';
		else
			snprintf(buf, sizeof buf, ".");
	}
	cands[2] = buf;
	for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
		char p[4200];
		if (!cands[i] || !*cands[i])
			continue;
		snprintf(p, sizeof p, "%s/deploy/gen-tones.py", cands[i]);
		if (!access(p, R_OK))
			return cands[i];
	}
	return NULL;
}

static void test_generator_agrees(void **state)
{
	(void)state;
	const char *src = src_dir();
	if (!src)
		fail_msg("deploy/gen-tones.py not found: run from the repository root or set "
		         "FULCRUM_SRC_DIR");
	assert_null(strchr(src, '\''));
	char dir[] = "/tmp/fc-tones-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cmd[8400];
	snprintf(cmd, sizeof cmd, "python3 '%s/deploy/gen-tones.py' '%s'", src, dir);
	int rc = system(cmd);

	/* Every enum value (and NONE) has its file. */
	int bad = rc != 0;
	char path[512];
	for (int r = 0; r < TWIML_RING_COUNT; r++) {
		assert_int_equal(ringtone_path((twiml_ringtone)r, dir, path, sizeof path), 0);
		if (check_wav(path))
			bad = 1;
	}

	/* The generator made nothing else. */
	int files = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		files++;
		size_t l = strlen(e->d_name);
		int known = 0;
		for (int r = 1; r < TWIML_RING_COUNT && !known; r++) {
			const char *n = twiml_ringtone_name((twiml_ringtone)r);
			known = l == strlen(n) + 4 && !strncmp(e->d_name, n, l - 4) &&
			        !strcmp(e->d_name + l - 4, ".wav");
		}
		if (!known) {
			fprintf(stderr, "gen-tones.py made %s, which no twiml_ringtone names\n",
			        e->d_name);
			bad = 1;
		}
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
	assert_int_equal(rc, 0);
	assert_int_equal(files, TWIML_RING_COUNT - 1);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_generator_agrees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
