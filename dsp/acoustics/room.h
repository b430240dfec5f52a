/* Soundstage: shoebox room, image-source model (Allen & Berkley, JASA 65(4), 1979).
 *
 * Room frame: origin at a corner, axes along the walls, every wall with the same frequency-independent
 * pressure reflection coefficient beta. Used only for predictions and tests (design-time, double).
 */
#ifndef SS_ROOM_H
#define SS_ROOM_H

struct ss_room {
	double size[3];   /**< m */
	double beta;      /**< pressure reflection coefficient of every surface (0..1) */
};

/** Sabine and Eyring reverberation times (s) of a shoebox with uniform absorption `alpha`. */
double ss_sabine_rt60(const double size[3], double alpha, double c);
double ss_eyring_rt60(const double size[3], double alpha, double c);

/** The uniform absorption that gives `rt60` by Eyring's formula. */
double ss_eyring_alpha_for_rt60(const double size[3], double rt60, double c);

/** Callback for each image source: position (room frame), amplitude factor beta^order, reflection order,
 * and which walls the last-order images come from (bit 2*axis + side, for first-order images). */
typedef void (*ss_image_fn)(void *data, const double img[3], double gain, int order, int wall);

/** Enumerate image sources of `src` up to `max_order` reflections (the direct source is order 0). */
void ss_room_images(const struct ss_room *room, const double src[3], int max_order, ss_image_fn fn, void *data);

/** Omnidirectional impulse response from `src` to `rcv` into ir[0..len-1] at rate fs, every image within
 * `len` samples (fractional delays placed by linear interpolation). Returns the number of images used. */
long ss_room_ir(const struct ss_room *room, const double src[3], const double rcv[3], double fs, double *ir,
		int len, double c);

/** Mirror point `p` in wall `wall` (bit index as above). */
void ss_room_mirror(const struct ss_room *room, int wall, const double p[3], double out[3]);

#endif
